"""The click options shared by `ci-toolkit summary` and `ci-toolkit run`: baseline and gates."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from ci_toolkit.errors import UsageError
from ci_toolkit.report.gates import GateSettings, parse_minimum

# The parameter names @gate_options adds; a command passes the rest on to its own code.
GATE_PARAMS: tuple[str, ...] = ("baseline", "minimums", "max_drop", "fail_on_failed_stories")

F = TypeVar("F", bound=Callable[..., Any])
_AROUND_OPERATOR = re.compile(r"\s*>=\s*")
_SEPARATORS = re.compile(r"[\s,]+")


class MinimumType(click.ParamType):
    """``METRIC>=VALUE``; from the environment, several separated by newlines, commas or spaces."""

    name = "METRIC>=VALUE"

    def split_envvar_value(self, rv: str) -> Sequence[str]:
        joined = _AROUND_OPERATOR.sub(">=", rv)  # "intent_f1 >= 0.9" is one item, not three
        return [item for item in _SEPARATORS.split(joined) if item]

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[str, float]:
        if isinstance(value, tuple):
            return value  # already converted (a default)
        try:
            return parse_minimum(str(value))
        except UsageError as error:
            self.fail(error.message, param, ctx)


def gate_options(command: F) -> F:
    """Add --baseline, --min, --max-drop and --fail-on-failed-stories to a click command."""
    options = [
        click.option(
            "--baseline", type=click.Path(path_type=Path), default=None,
            envvar="CI_TOOLKIT_BASELINE", metavar="REPORT_JSON",
            help="A report.json to compare with, usually the target branch's last report. "
                 "Gives the ▲/▼ deltas and the --max-drop gate. A missing file is only a "
                 "warning (the first run has no baseline); RasaHQ/rasa-train-test-gha reports "
                 "are accepted too.",
        ),
        click.option(
            "--min", "minimums", type=MinimumType(), multiple=True, envvar="CI_TOOLKIT_MIN",
            help="Fail unless METRIC is at least VALUE, e.g. 'intent_f1>=0.9'. Repeatable; in "
                 "the environment separate several by newlines, commas or spaces. METRIC is a "
                 "short name (intent_accuracy, intent_f1, intent_macro_f1, entity_f1, "
                 "entity_precision, entity_recall, response_accuracy, response_f1, "
                 "conversation_accuracy, action_accuracy, action_f1, cv_intent_f1, ...) or a "
                 "dotted path in report.json such as "
                 "'nlu.entity_extraction.CRFEntityExtractor.weighted_avg.f1_score'.",
        ),
        click.option(
            "--max-drop", type=click.FloatRange(0.0, 1.0), default=None,
            envvar="CI_TOOLKIT_MAX_DROP", metavar="FRACTION",
            help="Fail when any headline metric (accuracy, F1, precision, recall of each task) "
                 "is lower than in --baseline by more than this, e.g. 0.02.",
        ),
        click.option(
            "--fail-on-failed-stories/--allow-failed-stories", default=False,
            envvar="CI_TOOLKIT_FAIL_ON_FAILED_STORIES",
            help="Fail when any test story fails (rasa itself exits 0 then). Default: allow, "
                 "and list them in the summary.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _warn(message: str) -> None:
    from ci_toolkit.gha import ActionsRuntime

    click.echo(f"warning: {message}", err=True)
    ActionsRuntime().annotate("warning", message, title="ci-toolkit baseline")


def gate_settings_from(**params: Any) -> tuple[GateSettings, dict | None]:
    """The gate settings and the loaded baseline from a command's parameters.

    Takes the whole ``**params`` of a command; only the names in GATE_PARAMS are read.
    """
    from ci_toolkit.report.baseline import MissingBaseline, load_baseline

    settings = GateSettings(
        minimums=tuple(params.get("minimums") or ()),
        max_drop=params.get("max_drop"),
        allow_failed_stories=not params.get("fail_on_failed_stories", False),
    )
    baseline_path = params.get("baseline")
    baseline: dict | None = None
    if baseline_path:
        try:
            baseline = load_baseline(Path(baseline_path))
        except MissingBaseline as missing:
            _warn(str(missing))
    return settings, baseline
