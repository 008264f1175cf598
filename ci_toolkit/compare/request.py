"""`ci-toolkit compare`: its options, and every check of them that needs no rasa.

Rasa's comparison modes take bad input badly: `rasa test nlu --config a.yml b.yml` skips a
config that fails its schema with only a warning and compares the rest; both modes name a
config's results by its file name without extension, so `a/config.yml` and `b/config.yml`
overwrite each other; and a percentage of 100 or more trains on nothing. So everything is
checked here, with one message that says how to fix it, before rasa starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ci_toolkit.compare.argv import one_data_path
from ci_toolkit.errors import UsageError
from ci_toolkit.options import check_choice, setting
from ci_toolkit.pipeline.project import RasaProject, load_project

KINDS = ("nlu", "core")
DEFAULT_PERCENTAGES = (0, 25, 50, 75)  # rasa's own defaults
MAX_PERCENTAGE = 99  # excluding 100% of the training data leaves nothing to train on


@dataclass(frozen=True)
class CompareRequest:
    """One comparison: each field is an argument or option of `ci-toolkit compare`."""

    # Shared with `ci-toolkit run`: their options are PipelineSettings' (commands/compare.py).
    project_dir: Path = Path(".")
    rasa: str | None = None
    domain: str | None = None
    data: tuple[str, ...] = ()
    tests: str | None = None
    timeout_s: float | None = None
    configs: tuple[str, ...] = setting(
        (), metavar="FILE...", envvar="COMPARE_CONFIGS",
        help="The model configurations to compare (two or more, each a rasa config.yml), "
             "relative to the project: --config a.yml b.yml.")
    kind: str = setting("nlu", envvar="COMPARE_KIND", choices=KINDS,
                        help="nlu: compare NLU pipelines by intent and entity F1 (rasa test "
                             "nlu). core: compare policies by correct test stories (rasa "
                             "train core, rasa test core --evaluate-model-directory).")
    runs: int = setting(3, envvar="COMPARE_RUNS",
                        help="How many times each configuration is trained and tested at "
                             "each percentage; the results give the mean ± std.")
    percentages: tuple[int, ...] = setting(
        DEFAULT_PERCENTAGES, metavar="P...", envvar="COMPARE_PERCENTAGES",
        help="rasa's exclusion percentages: P% of the training data is left out, so each "
             "model trains on 100 - P% of it (0 to 99).")
    results_dir: Path | None = setting(
        None, metavar="DIR", envvar="COMPARE_RESULTS_DIRECTORY",
        help="Where rasa's files, the comparison section and the plot go. "
             "[default: PROJECT/results/compare-KIND]")
    out: Path | None = setting(
        None, metavar="FILE", envvar="COMPARISON",
        help="Also write the comparison section (JSON) here. "
             "[default: RESULT_DIR/comparison.json]")

    def workdir(self, project: RasaProject) -> Path:
        if self.results_dir is not None:
            return self.results_dir
        return project.root / "results" / f"compare-{self.kind}"


@dataclass(frozen=True)
class CheckedConfig:
    """A config to compare: its file and the name rasa gives its results."""

    path: Path
    name: str


def check_numbers(runs: int, percentages: Sequence[int]) -> None:
    if runs < 1:
        raise UsageError(f"--runs {runs} must be 1 or more: each configuration is trained and "
                         "tested that many times. Use e.g. --runs 3.")
    if not percentages:
        raise UsageError("--percentages needs at least one exclusion percentage, e.g. "
                         "--percentages 0 25 50 75.")
    for percentage in percentages:
        if not 0 <= percentage <= MAX_PERCENTAGE:
            raise UsageError(
                f"--percentages {percentage} is outside 0..{MAX_PERCENTAGE}. It is the share "
                "of the training data rasa leaves out (0 trains on all of it, 75 on a "
                "quarter), e.g. --percentages 0 25 50 75.")
    repeated = sorted({p for p in percentages if list(percentages).count(p) > 1})
    if repeated:
        raise UsageError(f"--percentages lists {', '.join(map(str, repeated))} more than once. "
                         "Give each exclusion percentage once.")


def _config_path(root: Path, given: str) -> Path:
    path = Path(given)
    return path if path.is_absolute() else root / path


def check_configs(root: Path, configs: Sequence[str]) -> list[CheckedConfig]:
    """Two or more distinct configs whose results rasa can tell apart."""
    if len(configs) < 2:
        given = f"only {configs[0]}" if configs else "none"
        raise UsageError(f"A comparison needs two or more configurations, but {given} was "
                         "given. Pass them all to --config, e.g. --config config.yml "
                         "candidate.yml.")
    checked: list[CheckedConfig] = []
    for given in configs:
        path = _config_path(root, given)
        name = path.stem
        for earlier in checked:
            if earlier.path.resolve() == path.resolve():
                raise UsageError(f"The configuration {given} is given twice to --config. "
                                 "Pass each configuration once.")
            if earlier.name == name:
                raise UsageError(
                    f"The configurations {earlier.path} and {path} have the same file name "
                    f"without extension ({name!r}), the name rasa files each one's results "
                    "under, so one would overwrite the other. Rename one of them.")
        checked.append(CheckedConfig(path=path, name=name))
    return checked


def check_request(request: CompareRequest) -> tuple[RasaProject, list[CheckedConfig]]:
    """The project (with the first config) and the configs, or a UsageError."""
    problem = check_choice(request.kind, KINDS, what="comparison kind")
    if problem:
        raise UsageError(problem)
    check_numbers(request.runs, request.percentages)
    configs = check_configs(Path(request.project_dir), request.configs)
    projects = [load_project(request.project_dir, config=config.path, domain=request.domain,
                             data=list(request.data) or None, tests=request.tests,
                             require_tests=request.kind == "core")
                for config in configs]
    # Each config is checked as the project's config would be: exists, is a file, valid
    # YAML with the shape rasa expects (rasa would skip a bad one with a warning).
    one_data_path(projects[0])
    return projects[0], configs
