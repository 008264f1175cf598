"""Typed settings of a pipeline run.

Each field declares its own click option of `ci-toolkit run` (and of the single-stage
commands): default, choices, help and the environment variable ``CI_TOOLKIT_<NAME>`` it is
read from (ci_toolkit/options.py); the root action.yml passes its inputs through exactly
those variables. Input names follow RasaHQ/rasa-train-test-gha where they
mean the same thing.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from ci_toolkit.errors import UsageError
from ci_toolkit.options import check_choice, check_seconds, setting

TRAIN_TYPES = ("all", "nlu", "core")
TEST_TYPES = ("all", "nlu", "core")


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
    """One run's request. Each field with a help text is one option of `ci-toolkit run` (and
    of the single-stage commands that take it), read from ``CI_TOOLKIT_<envvar>`` too."""

    project_dir: Path = setting(help="The Rasa project.", envvar="WORKSPACE")
    rasa: str | None = setting(
        None, metavar="PATH", envvar="RASA",
        help="The rasa executable. Default: `rasa` on PATH. scripts/setup-rasa.sh makes a "
             "Python 3.10 environment with rasa and prints this path.")
    config: str | None = setting(
        None, metavar="FILE", envvar="CONFIGURATION",
        help="Model configuration, relative to PROJECT. [default: config.yml]")
    domain: str | None = setting(
        None, metavar="PATH", envvar="DOMAIN",
        help="Domain file or directory, relative to PROJECT. [default: domain.yml]")
    data: tuple[str, ...] = setting(
        (), metavar="PATH", envvar="DATA", multiple=True,
        help="Training data file or directory (repeatable). [default: data]")
    tests: str | None = setting(
        None, metavar="PATH", envvar="TESTS",
        help="Test stories file or directory, relative to PROJECT. [default: tests]")

    validate: bool = setting(True, envvar="DATA_VALIDATE", help="Run `rasa data validate` first.")
    validate_args: tuple[str, ...] = setting(
        (), metavar="ARGS", envvar="DATA_VALIDATE_ARGS",
        help="Extra arguments for `rasa data validate`, e.g. '--max-history 5'.")
    fail_on_warnings: bool = setting(
        False, envvar="FAIL_ON_WARNINGS", is_flag=True,
        help="Treat validation warnings (unused intents, story conflicts...) as errors.")

    train: bool = setting(True, envvar="RASA_TRAIN",
                          help="Train a model (skipped when --model is given).")
    train_type: str = setting(
        "all", choices=TRAIN_TYPES, envvar="TRAIN_TYPE",
        help="all: `rasa train`; nlu: `rasa train nlu`; core: `rasa train core`.")
    train_args: tuple[str, ...] = setting(
        (), metavar="ARGS", envvar="TRAIN_ARGS",
        help="Extra arguments for `rasa train`, e.g. '--epoch-fraction 0.5'.")
    finetune: bool = setting(
        False, envvar="FINE_TUNE", is_flag=True,
        help="Fine-tune the latest model in the models directory instead of training from "
             "scratch (rasa's experimental incremental training).")
    fixed_model_name: str | None = setting(
        None, metavar="NAME", envvar="FIXED_MODEL_NAME",
        help="Save the model as NAME.tar.gz (in --models-dir) instead of a timestamped name, "
             "so later steps (upload, tag) can find it. A plain file name: letters, digits "
             "and . _ + -.")
    model: str | None = setting(
        None, metavar="FILE", envvar="MODEL",
        help="An existing model to test. Training is skipped when it is given.")

    test: bool = setting(True, envvar="RASA_TEST", help="Test the model (see --test-type).")
    test_type: str = setting(
        "all", choices=TEST_TYPES, envvar="TEST_TYPE",
        help="all: core stories and NLU; core: `rasa test core`; nlu: `rasa test nlu`.")
    test_core_args: tuple[str, ...] = setting(
        (), metavar="ARGS", envvar="TEST_CORE_ARGS",
        help="Extra arguments for `rasa test core`, e.g. '--max-stories 50'.")
    test_nlu_args: tuple[str, ...] = setting(
        (), metavar="ARGS", envvar="TEST_NLU_ARGS",
        help="Extra arguments for `rasa test nlu` (also used by cross-validation).")

    cross_validation: bool = setting(False, envvar="CROSS_VALIDATION",
                                     help="Also cross-validate the NLU model.")
    folds: int = setting(
        3, envvar="FOLDS",
        help="Number of cross-validation folds (2 or more). Intents with fewer examples than "
             "folds are dropped by rasa.")

    result_dir: Path | None = setting(
        None, envvar="RESULT_DIRECTORY",
        help="Where rasa's result files and the stage logs go. [default: PROJECT/results]")
    report_dir: Path | None = setting(
        None, envvar="REPORT_DIRECTORY",
        help="Where report.json and report-rtt.json go. [default: PROJECT/reports]")
    models_dir: Path | None = setting(
        None, envvar="MODELS_DIRECTORY",
        help="Where trained models are written. [default: PROJECT/models]")
    data_name: str = setting("default", envvar="DATA_NAME",
                             help="Label of the data set in the RTT-compatible report.")
    configuration_name: str | None = setting(
        None, envvar="CONFIGURATION_NAME",
        help="Label of the configuration in the RTT-compatible report. "
             "[default: the --config value]")
    assistant_name: str | None = setting(
        None, envvar="ASSISTANT_NAME",
        help="Name shown in the summary. [default: PROJECT's directory name]")

    cache_dir: Path | None = setting(
        None, envvar="CACHE_DIR",
        help="Stage result cache and rasa's component cache. Keep it between CI runs to skip "
             "work whose inputs did not change. [default: PROJECT/.ci-toolkit/cache]")
    no_cache: bool = setting(
        False, envvar="NO_CACHE", is_flag=True,
        help="Run every stage and retrain every component, ignoring the cache.")
    jobs: int = setting(
        default_factory=default_jobs, metavar="N|AUTO", envvar="JOBS",
        help="Stages to run at the same time: cross-validation beside training, the two "
             "tests beside each other. A rasa command keeps about one core busy; on 2 cores, "
             "2 jobs cut the example's cold run by a third. 'auto' is 2 with 2 or more CPUs, "
             "else 1. In Actions each stage's output is one log group either way.")
    timeout_s: float | None = setting(
        None, envvar="TIMEOUT", help="Stop any single rasa command after this many seconds.")

    def __post_init__(self) -> None:
        for value, choices, what in ((self.train_type, TRAIN_TYPES, "train type"),
                                     (self.test_type, TEST_TYPES, "test type")):
            problem = check_choice(value, choices, what=what)
            if problem:
                raise UsageError(problem)
        if self.folds < 2:
            raise UsageError(
                f"Cross-validation needs at least 2 folds, got {self.folds}. Use --folds 2 or more."
            )
        if self.jobs < 1:
            raise UsageError(f"--jobs must be 1 or more, got {self.jobs}.")
        if self.timeout_s is not None:
            check_seconds(self.timeout_s, option="--timeout",
                          hint="Pass e.g. --timeout 3600, or leave it out for no limit.")

    @property
    def use_cache(self) -> bool:
        return not self.no_cache

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
