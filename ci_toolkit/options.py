"""Options declared once: a settings dataclass field carries its default, choices, env var
and help text, and the click option of every command that takes it is made from that field
(``ci_toolkit.commands.option_from``). So a default or a list of choices cannot differ
between the CLI, the environment variable, the action input and the code that uses it.
Standard library only (settings are built by the action helper's neighbours too).
"""

from __future__ import annotations

import math
from dataclasses import MISSING, Field, field, fields
from typing import Any

from ci_toolkit.errors import UsageError

ENV_PREFIX = "CI_TOOLKIT_"


def env(name: str) -> str:
    """The environment variable of an option: ``CI_TOOLKIT_<NAME>``."""
    return f"{ENV_PREFIX}{name}"


def setting(default: Any = MISSING, *, help: str, envvar: str | None = None,
            choices: tuple[str, ...] | None = None, metavar: str | None = None,
            default_factory: Any = MISSING, **extra: Any) -> Any:
    """A dataclass field that also describes its command-line option.

    ``envvar`` is the bare name after CI_TOOLKIT_ (``"TRAIN_TYPE"``) or a full name.
    ``extra`` is passed on to click (``type=``, ``multiple=``, ``is_flag=`` ...).
    """
    metadata = {"help": help, "envvar": envvar, "choices": choices, "metavar": metavar,
                "click": extra}
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def declared_field(settings_class: type, name: str) -> Field[Any]:
    for candidate in fields(settings_class):
        if candidate.name == name:
            return candidate
    raise KeyError(f"{settings_class.__name__} has no setting '{name}'")


def check_choice(value: str, choices: tuple[str, ...], *, what: str) -> str | None:
    """None when value is one of choices, else the message that says what to use."""
    if value in choices:
        return None
    return f"Unknown {what} '{value}'. Use one of: {', '.join(choices)}."


def finite_at_least(value: float, minimum: float) -> bool:
    """Whether a number option is usable: click's FloatRange lets nan and inf through (nan
    compares false with everything), so a range check alone would accept them."""
    return math.isfinite(value) and value >= minimum


def check_seconds(value: float, *, option: str, hint: str = "Use e.g. 60.") -> None:
    """Refuse a timeout that is not a finite number of seconds, 1 or more: a wait of nan
    seconds is no wait at all, one of inf never ends (the click options say min 1 too)."""
    if not finite_at_least(value, 1):
        raise UsageError(f"{option} must be a finite number of seconds, 1 or more, not "
                         f"{value}. {hint}")
