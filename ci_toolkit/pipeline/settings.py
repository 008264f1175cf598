"""Typed settings of a pipeline run.

Each field is one click option of `ci-toolkit run` (and of the single-stage commands), which
reads the environment variable ``CI_TOOLKIT_<NAME>``; the root action.yml passes its inputs
through exactly those variables. Input names follow RasaHQ/rasa-train-test-gha where they
mean the same thing.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from ci_toolkit.errors import UsageError

TRAIN_TYPES = ("all", "nlu", "core")
TEST_TYPES = ("all", "nlu", "core")
STAGE_NAMES = ("validate", "train", "test_core", "test_nlu", "cross_validate")


def split_args(value: str | None, *, option: str) -> tuple[str, ...]:
    """Extra rasa arguments given as one string, split like a shell would."""
    if not value:
        return ()
    try:
        return tuple(shlex.split(value))
    except ValueError as error:
        raise UsageError(f"{option} could not be split into arguments: {error}.") from error


CGROUP = Path("/sys/fs/cgroup")


def cgroup_cpu_limit(root: Path = CGROUP) -> int | None:
    """Whole CPUs a container's quota allows (`docker run --cpus`), None if unlimited.

    The affinity mask does not show a quota, so a 1-CPU container on a 4-core host would
    otherwise count 4. Read as cgroup v2 (cpu.max) or v1 (cpu.cfs_quota_us)."""
    try:
        v2 = root / "cpu.max"
        if v2.is_file():
            quota, period = v2.read_text().split()[:2]
        else:
            quota = (root / "cpu" / "cpu.cfs_quota_us").read_text().strip()
            period = (root / "cpu" / "cpu.cfs_period_us").read_text().strip()
        if quota in ("max", "-1"):
            return None
        return max(1, int(int(quota) / int(period)))
    except (OSError, ValueError):
        return None


def usable_cpus() -> int:
    """CPUs this process may run on: its affinity mask, capped by a container's quota."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    limit = cgroup_cpu_limit()
    return min(cpus, limit) if limit else cpus


def default_jobs() -> int:
    """Two stages at a time wherever there are two CPUs.

    A rasa command keeps about one core busy. On 2 cores, two jobs made the example's cold
    run 0.66x as long as one job (benchmarks/RESULTS.md). Three jobs, every stage that can
    run at once, were 1.15x as long as two on the example and 0.94x on a 200-intent assistant
    (runs of the same day) and took up to 1 GiB more memory, so three is not the default.
    Machines with 4 or more cores were not available to measure; there a larger value stays
    the user's choice.
    """
    return 2 if usable_cpus() >= 2 else 1


@dataclass(frozen=True)
class PipelineSettings:
    project_dir: Path
    rasa: str | None = None
    config: str | None = None
    domain: str | None = None
    data: tuple[str, ...] = ()
    tests: str | None = None

    validate: bool = True
    validate_args: tuple[str, ...] = ()
    fail_on_warnings: bool = False

    train: bool = True
    train_type: str = "all"
    train_args: tuple[str, ...] = ()
    finetune: bool = False
    fixed_model_name: str | None = None
    model: str | None = None

    test: bool = True
    test_type: str = "all"
    test_core_args: tuple[str, ...] = ()
    test_nlu_args: tuple[str, ...] = ()

    cross_validation: bool = False
    folds: int = 3

    result_dir: Path | None = None
    report_dir: Path | None = None
    models_dir: Path | None = None
    data_name: str = "default"
    configuration_name: str | None = None
    assistant_name: str | None = None

    cache_dir: Path | None = None
    use_cache: bool = True
    jobs: int = field(default_factory=default_jobs)
    timeout_s: float | None = None

    def __post_init__(self) -> None:
        if self.train_type not in TRAIN_TYPES:
            raise UsageError(
                f"Unknown train type '{self.train_type}'. Use one of: {', '.join(TRAIN_TYPES)}."
            )
        if self.test_type not in TEST_TYPES:
            raise UsageError(
                f"Unknown test type '{self.test_type}'. Use one of: {', '.join(TEST_TYPES)}."
            )
        if self.folds < 2:
            raise UsageError(
                f"Cross-validation needs at least 2 folds, got {self.folds}. Use --folds 2 or more."
            )
        if self.jobs < 1:
            raise UsageError(f"--jobs must be 1 or more, got {self.jobs}.")

    # Derived locations. Defaults live inside the project, as with rasa and RTT.
    @property
    def results_root(self) -> Path:
        return self.result_dir or self.project_dir / "results"

    @property
    def reports_root(self) -> Path:
        return self.report_dir or self.project_dir / "reports"

    @property
    def models_root(self) -> Path:
        return self.models_dir or self.project_dir / "models"

    @property
    def cache_root(self) -> Path:
        return self.cache_dir or self.project_dir / ".ci-toolkit" / "cache"

    @property
    def configuration_label(self) -> str:
        return self.configuration_name or self.config or "config.yml"

    @property
    def runs_core_test(self) -> bool:
        return self.test and self.test_type in ("all", "core")

    @property
    def runs_nlu_test(self) -> bool:
        return self.test and self.test_type in ("all", "nlu")
