"""`ci-toolkit image build` and `ci-toolkit image push`: the action-server image.

Options come from the fields of ci_toolkit.image.request (default, env var and help declared
there once); each command turns them into one frozen request and makes one call.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from ci_toolkit.actions.request import ActionsRequest, ContainerContractTests
from ci_toolkit.commands import option_from, option_group
from ci_toolkit.github_context import ENV_VARS as GITHUB_ENV_VARS
from ci_toolkit.image.request import (
    PASSWORD_VARS,
    RENAMED_ENV_VARS,
    USERNAME_VARS,
    BuildRequest,
    PushRequest,
)

# Environment variables read besides the options' own (the action contract test checks
# action-server/action.yml against these and the options).
ENV_VARS_READ: tuple[str, ...] = (
    *USERNAME_VARS, *PASSWORD_VARS, *GITHUB_ENV_VARS, "DOCKER_HOST", "SOURCE_DATE_EPOCH",
    *(old for old, _ in RENAMED_ENV_VARS.values()),  # deprecated, read for one release
)


class BuildArgType(click.ParamType):
    """KEY=VALUE; the env var is split like a shell line, so ASG's value style works too."""

    name = "KEY=VALUE"

    def split_envvar_value(self, rv: str) -> Sequence[str]:
        from ci_toolkit.image.context import split_build_args_env

        return split_build_args_env(rv)


def _still_read_under_old_name(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Take a renamed option's value from its old env var when nothing else set it."""
    from click.core import ParameterSource

    from ci_toolkit.image.request import renamed_env_fallback

    if param.name is None or ctx.get_parameter_source(param.name) != ParameterSource.DEFAULT:
        return value
    fallback = renamed_env_fallback(os.environ, str(param.envvar))
    if fallback is None:
        return value
    raw, warning = fallback
    from ci_toolkit.gha import ActionsRuntime

    click.echo(f"warning: {warning}", err=True)
    ActionsRuntime().annotate("warning", warning, title="Deprecated environment variable")
    return param.type_cast_value(ctx, raw)


def _option(settings: type, name: str, *decls: str, **overrides: Any) -> Callable[[Any], Any]:
    # Show each option's env var in --help: the actions set options through them.
    return option_from(settings, name, *decls, show_envvar=True, **overrides)


def _renamed(name: str, *decls: str, **overrides: Any) -> Callable[[Any], Any]:
    return _option(BuildRequest, name, *decls, callback=_still_read_under_old_name,
                   **overrides)


def _path(**kinds: bool) -> click.Path:
    return click.Path(path_type=Path, **kinds)


naming_options = option_group(
    _option(PushRequest, "context", type=_path(file_okay=False)),
    _option(PushRequest, "registry"),
    _option(PushRequest, "image_name"),
    _option(PushRequest, "tag"),
    _option(PushRequest, "short_sha", show_default=False),
    _option(PushRequest, "extra_tags"),
    _option(PushRequest, "push_attempts", type=click.IntRange(min=1)),
)

build_options = option_group(
    _option(BuildRequest, "dockerfile", type=_path(dir_okay=False)),
    _option(BuildRequest, "actions_directory", type=_path(file_okay=False)),
    _option(BuildRequest, "requirements_file", type=_path(dir_okay=False)),
    _option(BuildRequest, "rasa_sdk_version"),
    _option(BuildRequest, "base_image"),
    _option(BuildRequest, "build_args", "--build-arg", type=BuildArgType()),
    _option(BuildRequest, "platform"),
    _option(BuildRequest, "build_network"),
    _renamed("no_cache", show_default=False),
    _option(BuildRequest, "pull", show_default=False),
    _option(BuildRequest, "push", "--push/--no-push"),
    _option(BuildRequest, "smoke_test", "--smoke-test/--no-smoke-test"),
    _renamed("domain", type=_path()),
    _option(BuildRequest, "expect_actions"),
    _renamed("smoke_timeout", type=click.FloatRange(min=1)),
    _option(BuildRequest, "smoke_network"),
)

# The action contract tests against the built image's container (docs/action-tests.md).
contract_options = option_group(
    _option(ContainerContractTests, "contract_tests", "--contract-tests/--no-contract-tests"),
    _option(ActionsRequest, "results_dir", "--actions-results-dir",
            type=_path(file_okay=False)),
)
CONTRACT_PARAMS = ("contract_tests", "results_dir")


@click.group()
def image() -> None:
    """Build, push and smoke-test the action-server image.

    \b
    The image is built with the docker SDK from the assistant project (the build context),
    on rasa/rasa-sdk at a pinned version, tagged with the commit SHA, and pushed with
    retries. Registry login comes only from the environment:
      CI_TOOLKIT_REGISTRY_USERNAME / CI_TOOLKIT_REGISTRY_PASSWORD
      (or action-server-gha's CI_TOOLKIT_DOCKER_REGISTRY_LOGIN / _PASSWORD).
    The engine is found through DOCKER_HOST, as the docker CLI does.
    """


@image.command()
@naming_options
@build_options
@contract_options
def build(**options: Any) -> None:
    """Build the action-server image; optionally smoke-test it, run the action contract
    tests against its container, and push it."""
    from ci_toolkit.image.workflow import run_build

    contract = ContainerContractTests(**{name: options.pop(name) for name in CONTRACT_PARAMS})
    run_build(BuildRequest(**options), contract=contract)


@image.command(name="push")
@naming_options
def push_command(**options: Any) -> None:
    """Push an image built earlier by `image build` (same naming options) to the registry."""
    from ci_toolkit.image.workflow import run_push

    run_push(PushRequest(**options))
