"""One module per command family; each turns its options into one call into the package."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def option_group(*decorators: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Bundle click options so several commands can share them in the order given."""
    def apply(function: Any) -> Any:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function
    return apply


def option_from(settings_class: type, name: str, *param_decls: str, **overrides: Any
                ) -> Callable[[Any], Any]:
    """The click option for one field of a settings dataclass (see ci_toolkit/options.py).

    Default, choices, env var, metavar and help come from the field; ``param_decls``
    (default ``--field-name``) and ``overrides`` add what only the CLI needs.
    """
    from dataclasses import MISSING

    import click

    from ci_toolkit.options import declared_field

    declared = declared_field(settings_class, name)
    meta = declared.metadata
    kwargs: dict[str, Any] = {"help": meta.get("help"), "envvar": _envvar(meta),
                              **meta.get("click", {})}
    if meta.get("metavar"):
        kwargs["metavar"] = meta["metavar"]
    if meta.get("choices"):
        kwargs["type"] = click.Choice(list(meta["choices"]))
    if declared.default is not MISSING and declared.default is not None:
        kwargs.setdefault("default", declared.default)
        kwargs.setdefault("show_default", True)
    kwargs.update(overrides)
    decls = param_decls or (f"--{name.replace('_', '-')}",)
    return click.option(*decls, name, **kwargs) if name not in decls else click.option(
        *decls, **kwargs)


def argument_from(settings_class: type, name: str, **overrides: Any) -> Callable[[Any], Any]:
    """The click argument for one field of a settings dataclass: its env var comes from the
    field (arguments have no help text; the command's docstring describes them)."""
    import click

    from ci_toolkit.options import declared_field

    meta = declared_field(settings_class, name).metadata
    return click.argument(name, envvar=_envvar(meta), **overrides)


def _envvar(meta: Any) -> str | None:
    from ci_toolkit.options import ENV_PREFIX

    envvar = meta.get("envvar")
    if envvar and not envvar.startswith(ENV_PREFIX):
        envvar = ENV_PREFIX + envvar
    return envvar
