"""What the templates of the matrix workflows see: the sharded cross-validation and the
config comparison (docs/matrix-workflows.md).

Both start with a `decide` job (the matrix/decide action: a label or a watched path on pull
requests), run one `shard` job per fold, or per configuration and run, with the matrix/shard
action, and pool the shards in a `merge` job (matrix/merge) that posts the sticky comment.
"""

from __future__ import annotations

from collections.abc import Callable

from ci_toolkit.scaffold.deploy_values import yaml_scalar
from ci_toolkit.scaffold.options import ScaffoldOptions

# The configurations a comparison shard job compares, relative to the project: the decide job
# writes them (git show of the pull request's base and head commits) and the shard jobs
# download them here. rasa names each config's results after its file name.
COMPARE_CONFIGS_DIR = ".ci-toolkit/compare-configs"
COMPARE_CONFIGS = (f"{COMPARE_CONFIGS_DIR}/base.yml", f"{COMPARE_CONFIGS_DIR}/pull-request.yml")
SEED = 0  # the split of every shard of one cross-validation


def lines(entries: list[tuple[str, str]]) -> list[str]:
    """`name: value` lines of a `with:` block; a name starting with # is a comment."""
    return [name if not value else f"{name}: {value}" for name, value in entries]


def expression_string(value: str) -> str:
    """A string literal of a GitHub expression: single quotes, each inner one doubled."""
    return "'" + value.replace("'", "''") + "'"


def concurrency_group(label: str, *, schedule: bool) -> str:
    """One run per pull request, a new push cancelling the one before. Adding another label
    starts a run that decides not to run the jobs: it gets a group of its own (its run id),
    so that it does not cancel the run under way."""
    other_label = ("github.event.action == 'labeled' && github.event.label.name != "
                   f"{expression_string(label)}")
    fallback = " || github.ref" if schedule else ""
    return ("${{ github.workflow }}-${{ " + other_label + " && github.run_id || "
            "github.event.pull_request.number" + fallback + " }}")


def matrix_context(options: ScaffoldOptions, install: list[tuple[str, str]],
                   in_project: Callable[[str], str]) -> dict[str, object]:
    """The matrix workflows' values. ``install`` are the inputs that say where the project
    is and which rasa to install, as the pipeline action gets them."""
    data = [("domain", yaml_scalar(options.domain)),
            ("data", yaml_scalar(" ".join(options.data)))]
    compare_shards = len(COMPARE_CONFIGS) * options.comparison_runs
    return {
        "trigger_label": options.trigger_label,
        "cv_concurrency_group": yaml_scalar(concurrency_group(options.trigger_label,
                                                              schedule=True)),
        "compare_concurrency_group": yaml_scalar(concurrency_group(options.trigger_label,
                                                                   schedule=False)),
        "cv_shards": list(range(1, options.folds + 1)),
        "cv_shard_inputs": lines([("command", "cross-validate"),
                                  ("shard", "${{ matrix.shard }}"),
                                  ("shards", yaml_scalar(str(options.folds))),
                                  ("seed", yaml_scalar(str(SEED))), *install,
                                  ("configuration", yaml_scalar(options.config)), *data]),
        "compare_shards": list(range(1, compare_shards + 1)),
        "compare_shard_inputs": lines([("command", "compare"),
                                       ("shard", "${{ matrix.shard }}"),
                                       ("shards", yaml_scalar(str(compare_shards))),
                                       ("configs", yaml_scalar(" ".join(COMPARE_CONFIGS))),
                                       ("runs", yaml_scalar(str(options.comparison_runs))),
                                       *install, *data]),
        "comparison_runs": options.comparison_runs,
        "compare_configs_dir": in_project(COMPARE_CONFIGS_DIR),
        "compare_config_path": in_project(options.config),
    }
