"""`ci-toolkit run` and the single-stage commands `validate`, `train`, `test`,
`cross-validate`. Options map one to one to PipelineSettings and to CI_TOOLKIT_* env vars."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ci_toolkit.commands import option_group
from ci_toolkit.commands.gate_options import gate_options, gate_settings_from
from ci_toolkit.errors import EXIT_FAILED, EXIT_OK

ENV_VARS_READ: tuple[str, ...] = (
    "GITHUB_ACTIONS", "GITHUB_SHA", "GITHUB_REF", "GITHUB_SERVER_URL", "GITHUB_REPOSITORY",
    "GITHUB_RUN_ID", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY",
)


def _env(name: str) -> str:
    return f"CI_TOOLKIT_{name}"


class JobsType(click.ParamType):
    """A number of jobs, or 'auto' (None here) for the measured default."""

    name = "N|auto"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int | None:
        if value is None or (isinstance(value, int) and value >= 1):
            return value
        text = str(value).strip().lower()
        if text == "auto":
            return None
        if text.isdigit() and int(text) >= 1:
            return int(text)
        self.fail(f"{value!r} is not a number of jobs. Use a whole number of 1 or more, "
                  "or auto.", param, ctx)


JOBS = JobsType()


project_options = option_group(
    click.argument("project", type=click.Path(file_okay=False, path_type=Path), default=".",
                   envvar=_env("WORKSPACE")),
    click.option("--rasa", "rasa", metavar="PATH", envvar=_env("RASA"),
                 help="The rasa executable. Default: `rasa` on PATH. scripts/setup-rasa.sh "
                      "makes a Python 3.10 environment with rasa and prints this path."),
    click.option("--config", metavar="FILE", envvar=_env("CONFIGURATION"),
                 help="Model configuration, relative to PROJECT. [default: config.yml]"),
    click.option("--domain", metavar="PATH", envvar=_env("DOMAIN"),
                 help="Domain file or directory, relative to PROJECT. [default: domain.yml]"),
    click.option("--data", metavar="PATH", multiple=True, envvar=_env("DATA"),
                 help="Training data file or directory (repeatable). [default: data]"),
    click.option("--result-dir", type=click.Path(path_type=Path), envvar=_env("RESULT_DIRECTORY"),
                 help="Where rasa's result files and the stage logs go. "
                      "[default: PROJECT/results]"),
    click.option("--report-dir", type=click.Path(path_type=Path), envvar=_env("REPORT_DIRECTORY"),
                 help="Where report.json and report-rtt.json go. [default: PROJECT/reports]"),
    click.option("--models-dir", type=click.Path(path_type=Path), envvar=_env("MODELS_DIRECTORY"),
                 help="Where trained models are written. [default: PROJECT/models]"),
    click.option("--data-name", default="default", show_default=True, envvar=_env("DATA_NAME"),
                 help="Label of the data set in the RTT-compatible report."),
    click.option("--configuration-name", envvar=_env("CONFIGURATION_NAME"),
                 help="Label of the configuration in the RTT-compatible report. "
                      "[default: the --config value]"),
    click.option("--assistant-name", envvar=_env("ASSISTANT_NAME"),
                 help="Name shown in the summary. [default: PROJECT's directory name]"),
    click.option("--cache-dir", type=click.Path(path_type=Path), envvar=_env("CACHE_DIR"),
                 help="Stage result cache and rasa's component cache. Keep it between CI runs "
                      "to skip work whose inputs did not change. "
                      "[default: PROJECT/.ci-toolkit/cache]"),
    click.option("--no-cache", is_flag=True, envvar=_env("NO_CACHE"),
                 help="Run every stage and retrain every component, ignoring the cache."),
    click.option("--jobs", "-j", type=JOBS, default="auto", show_default=True,
                 envvar=_env("JOBS"),
                 help="Stages to run at the same time: cross-validation beside training, the "
                      "two tests beside each other. A rasa command keeps about one core busy; "
                      "on 2 cores, 2 jobs cut the example's cold run by a third. 'auto' is 2 "
                      "with 2 or more CPUs, else 1. In Actions each stage's output is one "
                      "log group either way."),
    click.option("--timeout", "timeout_s", type=click.FloatRange(min=1), envvar=_env("TIMEOUT"),
                 help="Stop any single rasa command after this many seconds."),
)

validate_options = option_group(
    click.option("--validate-args", metavar="ARGS", envvar=_env("DATA_VALIDATE_ARGS"),
                 help="Extra arguments for `rasa data validate`, e.g. '--max-history 5'."),
    click.option("--fail-on-warnings", is_flag=True, envvar=_env("FAIL_ON_WARNINGS"),
                 help="Treat validation warnings (unused intents, story conflicts...) as errors."),
)

train_options = option_group(
    click.option("--train-type", type=click.Choice(["all", "nlu", "core"]), default="all",
                 show_default=True, envvar=_env("TRAIN_TYPE"),
                 help="all: `rasa train`; nlu: `rasa train nlu`; core: `rasa train core`."),
    click.option("--train-args", metavar="ARGS", envvar=_env("TRAIN_ARGS"),
                 help="Extra arguments for `rasa train`, e.g. '--epoch-fraction 0.5'."),
    click.option("--finetune", is_flag=True, envvar=_env("FINE_TUNE"),
                 help="Fine-tune the latest model in the models directory instead of training "
                      "from scratch (rasa's experimental incremental training)."),
    click.option("--fixed-model-name", metavar="NAME", envvar=_env("FIXED_MODEL_NAME"),
                 help="Save the model as NAME.tar.gz instead of a timestamped name, so later "
                      "steps (upload, tag) can find it."),
)

model_option = click.option(
    "--model", metavar="FILE", envvar=_env("MODEL"),
    help="An existing model to test. Training is skipped when it is given.")

test_options = option_group(
    click.option("--test-type", type=click.Choice(["all", "nlu", "core"]), default="all",
                 show_default=True, envvar=_env("TEST_TYPE"),
                 help="all: core stories and NLU; core: `rasa test core`; nlu: `rasa test nlu`."),
    click.option("--tests", metavar="PATH", envvar=_env("TESTS"),
                 help="Test stories file or directory, relative to PROJECT. [default: tests]"),
    click.option("--test-core-args", metavar="ARGS", envvar=_env("TEST_CORE_ARGS"),
                 help="Extra arguments for `rasa test core`, e.g. '--max-stories 50'."),
    click.option("--test-nlu-args", metavar="ARGS", envvar=_env("TEST_NLU_ARGS"),
                 help="Extra arguments for `rasa test nlu` (also used by cross-validation)."),
)

folds_option = click.option(
    "--folds", type=int, default=3, show_default=True, envvar=_env("FOLDS"),
    help="Number of cross-validation folds (2 or more). Intents with fewer examples than "
         "folds are dropped by rasa.")


def _settings(params: dict[str, Any], **stage_switches: Any) -> Any:
    from ci_toolkit.pipeline.settings import PipelineSettings, default_jobs, split_args

    return PipelineSettings(
        project_dir=params["project"],
        rasa=params.get("rasa"),
        config=params.get("config"),
        domain=params.get("domain"),
        data=tuple(params.get("data") or ()),
        tests=params.get("tests"),
        validate_args=split_args(params.get("validate_args"), option="--validate-args"),
        fail_on_warnings=bool(params.get("fail_on_warnings")),
        train_type=params.get("train_type") or "all",
        train_args=split_args(params.get("train_args"), option="--train-args"),
        finetune=bool(params.get("finetune")),
        fixed_model_name=params.get("fixed_model_name"),
        model=params.get("model"),
        test_type=params.get("test_type") or "all",
        test_core_args=split_args(params.get("test_core_args"), option="--test-core-args"),
        test_nlu_args=split_args(params.get("test_nlu_args"), option="--test-nlu-args"),
        folds=params.get("folds") or 3,
        result_dir=params.get("result_dir"),
        report_dir=params.get("report_dir"),
        models_dir=params.get("models_dir"),
        data_name=params.get("data_name") or "default",
        configuration_name=params.get("configuration_name"),
        assistant_name=params.get("assistant_name"),
        cache_dir=params.get("cache_dir"),
        use_cache=not params.get("no_cache"),
        jobs=params.get("jobs") or default_jobs(),
        timeout_s=params.get("timeout_s"),
        **stage_switches,
    )


def execute(settings: Any, *, gates: Any = None, baseline: Any = None) -> int:
    """Run the pipeline, write report.json, tell the user and Actions; return the exit code."""
    from ci_toolkit.gha import ActionsRuntime
    from ci_toolkit.pipeline.result_table import render_table
    from ci_toolkit.pipeline.run import Pipeline
    from ci_toolkit.proc import Console
    from ci_toolkit.report.build import build_report, write_report

    console = Console()
    actions = ActionsRuntime()
    run = Pipeline(settings, console=console,
                   actions=actions if actions.active else None).execute()
    report = build_report(run, environ=os.environ)
    if gates is not None and gates.configured:
        from ci_toolkit.report.gates import evaluate_gates

        report["gates"] = evaluate_gates(report, baseline, gates)
        if not all(gate["passed"] for gate in report["gates"]):
            report["verdict"] = "failed"
    # The report is written before anything remote is tried: nothing is lost.
    path = write_report(report, settings.reports_root)
    click.echo(render_table(report, report_path=os.path.relpath(path)))
    if actions.active:
        # Annotations come from `ci-toolkit summary`, which every workflow runs next.
        model = report.get("model") or {}
        actions.set_outputs({
            "report": json.dumps(report["rtt"], separators=(",", ":")),
            "report_path": str(path),
            "model_path": model.get("path") or "",
            "model_name": model.get("name") or "",
            "verdict": report["verdict"],
        })
    return EXIT_OK if report["verdict"] == "passed" else EXIT_FAILED


@click.command()
@project_options
@validate_options
@click.option("--validate/--no-validate", "run_validate", default=True, show_default=True,
              envvar=_env("DATA_VALIDATE"), help="Run `rasa data validate` first.")
@train_options
@click.option("--train/--no-train", "run_train", default=True, show_default=True,
              envvar=_env("RASA_TRAIN"), help="Train a model (skipped when --model is given).")
@model_option
@test_options
@click.option("--test/--no-test", "run_test", default=True, show_default=True,
              envvar=_env("RASA_TEST"), help="Test the model (see --test-type).")
@click.option("--cross-validation/--no-cross-validation", default=False, show_default=True,
              envvar=_env("CROSS_VALIDATION"), help="Also cross-validate the NLU model.")
@folds_option
@gate_options
def run(run_validate: bool, run_train: bool, run_test: bool, cross_validation: bool,
        **params: Any) -> None:
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
    settings = _settings(params, validate=run_validate, train=run_train, test=run_test,
                         cross_validation=cross_validation)
    raise SystemExit(execute(settings, gates=gates, baseline=baseline))


def _single(**switches: Any) -> Callable[[dict[str, Any]], int]:
    def go(params: dict[str, Any]) -> int:
        defaults = {"validate": False, "train": False, "test": False, "cross_validation": False}
        return execute(_settings(params, **{**defaults, **switches}))
    return go


@click.command()
@project_options
@validate_options
def validate(**params: Any) -> None:
    """Run `rasa data validate` and report its findings.

    Findings are split into errors (which fail the stage) and warnings (which fail it
    only with --fail-on-warnings), each with the file and line it is about when known.
    """
    raise SystemExit(_single(validate=True)(params))


@click.command()
@project_options
@train_options
def train(**params: Any) -> None:
    """Train a model with `rasa train`.

    The model path is printed, recorded in report.json and, in GitHub Actions, written to
    the `model_path` output. Training is skipped when the cache holds a model trained from
    the same inputs.
    """
    raise SystemExit(_single(train=True)(params))


@click.command()
@project_options
@model_option
@test_options
def test(**params: Any) -> None:
    """Test a model: core stories and NLU.

    Without --model, the most recently written model in the models directory is tested
    (the path is printed).
    """
    if not params.get("model"):
        params["model"] = str(_latest_model(params))
    raise SystemExit(_single(test=True)(params))


@click.command(name="cross-validate")
@project_options
@folds_option
@click.option("--test-nlu-args", metavar="ARGS", envvar=_env("TEST_NLU_ARGS"),
              help="Extra arguments for `rasa test nlu --cross-validation`.")
def cross_validate(**params: Any) -> None:
    """Cross-validate the NLU model.

    Trains one NLU model per fold and evaluates the pooled predictions; report.json gets
    the pooled reports and the train/test mean ± std of each metric.
    """
    raise SystemExit(_single(cross_validation=True)(params))


def _latest_model(params: dict[str, Any]) -> Path:
    from ci_toolkit.errors import UsageError

    models = params.get("models_dir") or params["project"] / "models"
    candidates = sorted(Path(models).glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        raise UsageError(f"No model to test in {models}. Train one (`ci-toolkit train`) or "
                         "pass --model.")
    click.echo(f"Testing the latest model: {candidates[-1]}", err=True)
    return candidates[-1]
