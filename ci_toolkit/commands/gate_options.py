"""The click options shared by `ci-toolkit summary` and `ci-toolkit run`: baseline and gates."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ci_toolkit.commands import option_from, option_group
from ci_toolkit.errors import UsageError
from ci_toolkit.report.gates import GateSettings, fraction, parse_minimum

if TYPE_CHECKING:
    from ci_toolkit.report.model import Report

# The parameter names @gate_options adds; a command passes the rest on to its own code.
GATE_PARAMS: tuple[str, ...] = tuple(field.name for field in fields(GateSettings))
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


class FractionType(click.ParamType):
    """A number from 0 to 1. (click.FloatRange lets "nan" through: no comparison fails.)"""

    name = "FRACTION"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        option = param.opts[0] if param is not None and param.opts else "the value"
        try:
            return fraction(value, option)
        except UsageError as error:
            self.fail(error.message, param, ctx)


# --baseline, --min, --max-drop, --fail-on-failed-stories, --fail-on-unreachable-extractors,
# --actions-results and --fail-on-action-errors, made from GateSettings' fields.
gate_options = option_group(
    option_from(GateSettings, "baseline", type=click.Path(path_type=Path)),
    option_from(GateSettings, "minimums", "--min", type=MinimumType(), multiple=True,
                show_default=False),
    option_from(GateSettings, "max_drop", type=FractionType()),
    option_from(GateSettings, "fail_on_failed_stories",
                "--fail-on-failed-stories/--allow-failed-stories", show_default=False),
    option_from(GateSettings, "fail_on_unreachable_extractors",
                "--fail-on-unreachable-extractors/--allow-unreachable-extractors",
                show_default=False),
    option_from(GateSettings, "actions_results",
                type=click.Path(dir_okay=False, path_type=Path)),
    option_from(GateSettings, "fail_on_action_errors",
                "--fail-on-action-errors/--allow-action-errors", show_default=False),
)


def gate_settings_from(**params: Any) -> tuple[GateSettings, Report | None]:
    """The gate settings and the loaded baseline from a command's parameters.

    Takes the whole ``**params`` of a command; only the names in GATE_PARAMS are read.
    """
    from ci_toolkit.gha import ActionsRuntime
    from ci_toolkit.report.baseline import read_baseline

    settings = gate_settings(params)
    return settings, read_baseline(settings.baseline, actions=ActionsRuntime())


def gate_settings(params: dict[str, Any]) -> GateSettings:
    """GateSettings from a command's parameters (the names in GATE_PARAMS), checked: a bad
    combination is a UsageError (exit 2) before the command does anything."""
    return GateSettings(
        baseline=Path(params["baseline"]) if params.get("baseline") else None,
        minimums=tuple(params.get("minimums") or ()),
        max_drop=params.get("max_drop"),
        fail_on_failed_stories=bool(params.get("fail_on_failed_stories", False)),
        fail_on_unreachable_extractors=bool(params.get("fail_on_unreachable_extractors", False)),
        actions_results=Path(params["actions_results"]) if params.get("actions_results") else None,
        fail_on_action_errors=bool(params.get("fail_on_action_errors", False)),
    ).check()
