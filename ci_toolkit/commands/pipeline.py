"""`ci-toolkit run` and the single-stage commands `validate`, `train`, `test`,
`cross-validate`. Each option is a field of PipelineSettings (its default, choices, env var and
help are declared there); a command turns its options into one PipelineSettings and runs it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from ci_toolkit.commands import argument_from, option_from, option_group
from ci_toolkit.commands.gate_options import GATE_PARAMS, gate_options, gate_settings_from
from ci_toolkit.crossval.shard import ShardPlan
from ci_toolkit.errors import UsageError
from ci_toolkit.github_context import ENV_VARS
from ci_toolkit.pipeline.inputs import check_paths
from ci_toolkit.pipeline.report_scope import single_stage_report_dir
from ci_toolkit.pipeline.settings import PipelineSettings, default_jobs, split_args

# The runner's variables `run` reads, all through GitHubContext: the report's commit, ref and
# run link, and the Actions output files.
ENV_VARS_READ: tuple[str, ...] = ENV_VARS
# The settings that switch a stage on; a single-stage command turns on its own only.
STAGE_SWITCHES = ("validate", "train", "test", "cross_validation")
# The single-stage command of each switch: the name of its report directory too.
STAGE_COMMANDS = {"validate": "validate", "train": "train", "test": "test",
                  "cross_validation": "cross-validate"}


class JobsType(click.ParamType):
    """A number of jobs, or 'auto' for the measured default (settings.default_jobs)."""

    name = "N|auto"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        if isinstance(value, int) and value >= 1:
            return value
        text = str(value).strip().lower()
        if text == "auto":
            return default_jobs()
        if text.isdigit() and int(text) >= 1:
            return int(text)
        self.fail(f"{value!r} is not a number of jobs. Use a whole number of 1 or more, "
                  "or auto.", param, ctx)


class ExtraArgsType(click.ParamType):
    """Extra rasa arguments given as one string, split like a shell would."""

    name = "args"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value  # the default, or already split
        option = param.opts[0] if param is not None and param.opts else "the value"
        try:
            return split_args(str(value), option=option)
        except UsageError as error:
            self.fail(error.message, param, ctx)


def _setting(name: str, *decls: str, **overrides: Any) -> Any:
    return option_from(PipelineSettings, name, *decls, **overrides)


DIRECTORY = click.Path(path_type=Path)
ARGS = ExtraArgsType()

project_options = option_group(
    argument_from(PipelineSettings, "project_dir", metavar="[PROJECT]", default=".",
                  type=click.Path(file_okay=False, path_type=Path)),
    _setting("rasa"),
    _setting("config"),
    _setting("domain"),
    _setting("data"),
    _setting("result_dir", type=DIRECTORY),
    _setting("report_dir", type=DIRECTORY),
    _setting("models_dir", type=DIRECTORY),
    _setting("data_name"),
    _setting("configuration_name"),
    _setting("assistant_name"),
    _setting("cache_dir", type=DIRECTORY),
    _setting("no_cache"),
    _setting("jobs", "--jobs", "-j", type=JobsType(), default="auto", show_default=True),
    _setting("timeout_s", "--timeout", type=click.FloatRange(min=1)),
)
validate_options = option_group(_setting("validate_args", type=ARGS),
                                _setting("fail_on_warnings"))
train_options = option_group(_setting("train_type"), _setting("train_args", type=ARGS),
                             _setting("finetune"), _setting("fixed_model_name"))
model_option = _setting("model")
test_options = option_group(_setting("test_type"), _setting("tests"),
                            _setting("test_core_args", type=ARGS),
                            _setting("test_nlu_args", type=ARGS))
folds_option = _setting("folds")


def execute(settings: PipelineSettings, *, gates: Any = None, baseline: Any = None) -> int:
    """Run the pipeline, write report.json, tell the user and Actions; return the exit code."""
    from ci_toolkit.gha import ActionsRuntime
    from ci_toolkit.github_context import GitHubContext
    from ci_toolkit.pipeline.report_scope import keep_fuller_report
    from ci_toolkit.pipeline.run import Pipeline
    from ci_toolkit.proc import Console
    from ci_toolkit.report.publish import publish_run

    actions = ActionsRuntime()
    actions.check_output_file()  # later steps need the outputs: fail before the pipeline runs
    run = Pipeline(settings, console=Console(),
                   actions=actions if actions.active else None).execute()
    # A narrower run keeps the fuller report it replaces, and says so.
    notice = keep_fuller_report(run)
    if notice:
        click.echo(f"note: {notice}", err=True)
    return publish_run(run, gates=gates, baseline=baseline,
                       context=GitHubContext.from_environ(), actions=actions)



@click.command()
@project_options
@validate_options
@_setting("validate", "--validate/--no-validate")
@train_options
@_setting("train", "--train/--no-train")
@model_option
@test_options
@_setting("test", "--test/--no-test")
@_setting("cross_validation", "--cross-validation/--no-cross-validation")
@folds_option
@gate_options
def run(**params: Any) -> None:
    """Validate, train, test and cross-validate; write report.json.

    Runs, in order and for real: `rasa data validate`, `rasa train`, `rasa test core` on
    the test stories, `rasa test nlu`, and (with --cross-validation) NLU cross-validation.
    Every stage can be switched off. Stages whose inputs did not change since a previous
    run are restored from the cache instead of re-run.

    \b
    Writes REPORT_DIR/report.json (docs/report-schema.md), the RTT-compatible
    REPORT_DIR/report-rtt.json, rasa's files under RESULT_DIR and one log per stage.
    Exits 0 when every enabled stage (and gate) passed, 1 when one failed, 2 on bad input.
    """
    gates, baseline = gate_settings_from(**params)
    settings = PipelineSettings(**{k: v for k, v in params.items() if k not in GATE_PARAMS})
    raise SystemExit(execute(settings, gates=gates, baseline=baseline))


def _only(switch: str, params: dict[str, Any]) -> PipelineSettings:
    """The settings of a single-stage command: its own stage on, every other one off, and
    its report beside the pipeline's (pipeline/report_scope.py) unless --report-dir is
    given."""
    switches = {name: name == switch for name in STAGE_SWITCHES}
    settings = PipelineSettings(**params, **switches)
    if settings.report_dir is None:
        settings = replace(settings, report_dir=single_stage_report_dir(
            settings.project_dir, STAGE_COMMANDS[switch]))
    return settings


@click.command()
@project_options
@validate_options
def validate(**params: Any) -> None:
    """Run `rasa data validate` and report its findings.

    Findings are split into errors (which fail the stage) and warnings (which fail it
    only with --fail-on-warnings), each with the file and line it is about when known.
    The report goes to PROJECT/reports/validate/ unless --report-dir is given, so
    reports/report.json keeps the last `ci-toolkit run`.
    """
    raise SystemExit(execute(_only("validate", params)))


@click.command()
@project_options
@train_options
def train(**params: Any) -> None:
    """Train a model with `rasa train`.

    The model path is printed, recorded in report.json and, in GitHub Actions, written to
    the `model_path` output. Training is skipped when the cache holds a model trained from
    the same inputs. The report goes to PROJECT/reports/train/ unless --report-dir is given.
    """
    raise SystemExit(execute(_only("train", params)))


@click.command()
@project_options
@model_option
@test_options
def test(**params: Any) -> None:
    """Test a model: core stories and NLU.

    Without --model, the most recently written model in the models directory is tested
    (the path is printed). The report goes to PROJECT/reports/test/ unless --report-dir is
    given.
    """
    settings = _only("test", params)
    check_paths(settings)  # before looking for a model: the first problem first
    if not settings.model:
        settings = replace(settings, model=str(_latest_model(settings.models_root)))
    raise SystemExit(execute(settings))


# One fold of a cross-validation spread over a CI job matrix (ci_toolkit/crossval/): options
# of ShardPlan, not of PipelineSettings.
SHARD_PARAMS = ("shard", "seed", "train_metrics")
shard_options = option_group(
    option_from(ShardPlan, "shard", required=False, default=None),
    option_from(ShardPlan, "seed", type=int),
    option_from(ShardPlan, "train_metrics", "--train-metrics/--no-train-metrics"),
)


@click.command(name="cross-validate")
@project_options
@folds_option
@_setting("test_nlu_args", type=ARGS,
          help="Extra arguments for `rasa test nlu --cross-validation`.")
@shard_options
def cross_validate(shard: str | None, seed: int, train_metrics: bool, **params: Any) -> None:
    """Cross-validate the NLU model.

    Trains one NLU model per fold and evaluates the pooled predictions; report.json gets
    the pooled reports and the train/test mean ± std of each metric. The report goes to
    PROJECT/reports/cross-validate/ unless --report-dir is given.

    With --shard i/N, runs fold i of N only (one job of a CI matrix), on a split that is
    the same on every machine, and writes RESULT_DIR/cross-validate/shard-i-of-N/
    shard-report.json; `ci-toolkit merge` pools the shards (docs/sharded-cross-validation.md).
    """
    settings = _only("cross_validation", params)
    if shard is None:
        raise SystemExit(execute(settings))
    from ci_toolkit.crossval.shard import run_shard
    from ci_toolkit.proc import Console

    plan = ShardPlan.from_settings(settings, shard=shard, seed=seed, train_metrics=train_metrics)
    path = run_shard(plan, console=Console())
    click.echo(f"Shard {plan.fold} of {plan.folds} written to {path}", err=True)
    click.echo(str(path))


def _latest_model(models: Path) -> Path:
    if models.exists() and not models.is_dir():
        raise UsageError(f"--models-dir {models} is a file, not a directory. Point it at the "
                         "directory of trained models, or pass --model.")
    candidates = sorted(models.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        raise UsageError(f"No model to test in {models}. Train one (`ci-toolkit train`) or "
                         "pass --model.")
    click.echo(f"Testing the latest model: {candidates[-1]}", err=True)
    return candidates[-1]
