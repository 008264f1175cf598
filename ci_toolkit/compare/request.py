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
        help="Where rasa's files, the comparison section and the plot go. With --shard: "
             "the results root the shard's directory goes under. [default: "
             "PROJECT/results/compare-KIND; with --shard PROJECT/results]")
    out: Path | None = setting(
        None, metavar="FILE", envvar="COMPARISON",
        help="Also write the comparison section (JSON) here. "
             "[default: RESULT_DIR/comparison.json]")
    report: Path | None = setting(
        None, metavar="FILE", envvar="COMPARISON_REPORT",
        help="Also put the comparison into this report.json as its `comparison` section: an "
             "existing report (e.g. from `ci-toolkit run`) keeps everything else; otherwise a "
             "report with only the comparison is written.")
    shard: str | None = setting(
        None, metavar="i/N", envvar="COMPARE_SHARD",
        help="Run only shard i of N, one job of a CI matrix: one config and one run, with "
             "N = configs x runs (shard i is config (i-1) // runs + 1, run (i-1) % runs + 1). "
             "Writes RESULT_DIR/compare/shard-i-of-N/shard-report.json (RESULT_DIR: "
             "--result-dir, default PROJECT/results); `ci-toolkit merge` pools the shards.")
    seed: int = setting(0, envvar="COMPARE_SEED",
                        help="With --shard: seed of each run's data split, the same on every "
                             "machine. Every shard of one comparison takes the same seed.")

    def workdir(self, project: RasaProject) -> Path:
        if self.shard is not None:
            # As for `cross-validate --shard`: --result-dir is the results root.
            index, total = parse_shard_text(self.shard)
            root = self.results_dir if self.results_dir is not None else project.root / "results"
            return root / "compare" / f"shard-{index}-of-{total}"
        if self.results_dir is not None:
            return self.results_dir
        return project.root / "results" / f"compare-{self.kind}"


def parse_shard_text(text: str) -> tuple[int, int]:
    """``"i/N"`` -> (i, N), with the message of a bad value."""
    parts = text.strip().split("/")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise UsageError(f"--shard {text!r} is not of the form i/N (shard i of N), e.g. "
                         "--shard 1/6.")
    return int(parts[0]), int(parts[1])


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``total`` = configs x runs: config ``config`` (0-based), run ``run``
    (1-based)."""

    index: int
    total: int
    config: int
    run: int


def check_shard(text: str, *, configs: int, runs: int) -> Shard:
    index, total = parse_shard_text(text)
    if total != configs * runs:
        raise UsageError(
            f"--shard {text}: a comparison of {configs} configs with --runs {runs} has "
            f"{configs} x {runs} = {configs * runs} shards (one per config and run), not "
            f"{total}. Use --shard i/{configs * runs}.")
    if not 1 <= index <= total:
        raise UsageError(f"--shard {text}: shards are numbered 1 to {total}. Use --shard i/"
                         f"{total} with 1 <= i <= {total}.")
    return Shard(index=index, total=total, config=(index - 1) // runs,
                 run=(index - 1) % runs + 1)


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
