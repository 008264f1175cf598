"""The `image` command's contract: options, env vars, credentials and errors before any engine."""

from __future__ import annotations

import io
from pathlib import Path

import click
import pytest
import yaml

from ci_toolkit.cli import COMMANDS, main
from ci_toolkit.commands import image as image_command
from ci_toolkit.errors import UsageError
from ci_toolkit.gha import ActionsRuntime
from ci_toolkit.github_context import ENV_VARS as GITHUB_ENV_VARS
from ci_toolkit.image.push import credentials_from_env
from ci_toolkit.image.request import RENAMED_ENV_VARS
from tests import paths

EXAMPLE = paths.EXAMPLE


def test_the_listed_help_is_the_groups_first_docstring_line() -> None:
    module, attribute, help_text = COMMANDS["image"]
    group = getattr(image_command, attribute)
    assert module == "ci_toolkit.commands.image"
    assert isinstance(group, click.Group) and set(group.commands) == {"build", "push"}
    assert help_text == (group.__doc__ or "").strip().splitlines()[0]


@pytest.mark.parametrize("name", ["build", "push"])
def test_every_option_has_an_env_var_and_a_help_text(name: str) -> None:
    command = image_command.image.commands[name]
    for option in command.params:
        assert isinstance(option, click.Option)
        assert option.envvar and str(option.envvar).startswith("CI_TOOLKIT_"), option.name
        assert option.help and len(option.help) > 20, option.name
        assert option.show_envvar, option.name


def test_env_vars_follow_action_server_gha_input_names() -> None:
    envvars = {str(option.envvar) for option in image_command.image.commands["build"].params}
    assert {"CI_TOOLKIT_DOCKER_REGISTRY", "CI_TOOLKIT_DOCKER_IMAGE_NAME",
            "CI_TOOLKIT_DOCKER_IMAGE_TAG", "CI_TOOLKIT_DOCKER_REGISTRY_PUSH",
            "CI_TOOLKIT_DOCKERFILE", "CI_TOOLKIT_ACTIONS_DIRECTORY",
            "CI_TOOLKIT_REQUIREMENTS_FILE", "CI_TOOLKIT_RASA_SDK_VERSION",
            "CI_TOOLKIT_DOCKER_BUILD_ARGS", "CI_TOOLKIT_PLATFORM",
            "CI_TOOLKIT_EXTRA_TAGS"} <= envvars
    # Secrets are never options (they would end up in argv).
    assert not [e for e in envvars if "PASSWORD" in e or "USERNAME" in e or "LOGIN" in e]
    assert {"CI_TOOLKIT_REGISTRY_USERNAME", "CI_TOOLKIT_REGISTRY_PASSWORD",
            "CI_TOOLKIT_DOCKER_REGISTRY_LOGIN", "CI_TOOLKIT_DOCKER_REGISTRY_PASSWORD",
            } <= set(image_command.ENV_VARS_READ)


def credentials(environ: dict[str, str]) -> tuple[object, str]:
    stream = io.StringIO()
    found = credentials_from_env(environ, ActionsRuntime(
        {"GITHUB_ACTIONS": "true", **environ}, stream))
    return found, stream.getvalue()


def test_credentials_come_from_the_env_and_the_password_is_masked_at_once() -> None:
    found, commands = credentials({"CI_TOOLKIT_REGISTRY_USERNAME": "bot",
                                   "CI_TOOLKIT_REGISTRY_PASSWORD": "pa55-word",
                                   "CI_TOOLKIT_DOCKER_REGISTRY_PASSWORD": "other"})
    assert (found.username, found.password) == ("bot", "pa55-word")  # type: ignore[attr-defined]
    assert commands == "::add-mask::pa55-word\n"


def test_action_server_gha_names_work_too() -> None:
    found, _ = credentials({"CI_TOOLKIT_DOCKER_REGISTRY_LOGIN": "bot",
                            "CI_TOOLKIT_DOCKER_REGISTRY_PASSWORD": "token"})
    assert (found.username, found.password) == ("bot", "token")  # type: ignore[attr-defined]
    assert credentials({})[0] is None


def test_half_a_login_is_a_usage_error_not_a_silent_skip() -> None:
    with pytest.raises(UsageError, match="CI_TOOLKIT_REGISTRY_PASSWORD is empty"):
        credentials({"CI_TOOLKIT_REGISTRY_USERNAME": "bot"})
    with pytest.raises(UsageError, match="CI_TOOLKIT_REGISTRY_USERNAME is empty"):
        credentials({"CI_TOOLKIT_REGISTRY_PASSWORD": "secret"})


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["image", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err.strip().splitlines()[-1]


def test_an_unreachable_engine_is_one_clear_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    code, error = run(capsys, "build", "--context", str(EXAMPLE), "--tag", "dev")
    assert code == 1
    assert error.startswith(f"error: Cannot reach the Docker engine at unix://{tmp_path}/"
                            "no-engine.sock: ")
    assert error.endswith("Start Docker, or set DOCKER_HOST to a running engine's socket.")


def test_bad_input_stops_before_the_engine_is_asked(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    code, error = run(capsys, "build", "--context", str(EXAMPLE), "--tag", "dev",
                      "--dockerfile", "Dockerfile.nope")
    assert (code, error) == (2, f"error: The Dockerfile {EXAMPLE / 'Dockerfile.nope'} does not "
                                "exist. Fix --dockerfile (CI_TOOLKIT_DOCKERFILE), or leave it "
                                "empty to use ci-toolkit's own Dockerfile.")
    code, error = run(capsys, "build", "--context", str(EXAMPLE), "--tag", "Not/A/Tag")
    assert code == 2 and "is not a valid image tag" in error
    monkeypatch.setenv("CI_TOOLKIT_DOCKER_BUILD_ARGS", "--build-arg NOVALUE")
    code, error = run(capsys, "build", "--context", str(EXAMPLE), "--tag", "dev")
    assert code == 2 and "The build argument 'NOVALUE' is not KEY=VALUE" in error


def test_push_needs_both_halves_of_a_login(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CI_TOOLKIT_REGISTRY_USERNAME", "bot")
    monkeypatch.delenv("CI_TOOLKIT_REGISTRY_PASSWORD", raising=False)
    monkeypatch.delenv("CI_TOOLKIT_DOCKER_REGISTRY_PASSWORD", raising=False)
    code, error = run(capsys, "push", "--context", str(EXAMPLE), "--tag", "dev")
    assert code == 2 and "CI_TOOLKIT_REGISTRY_PASSWORD is empty" in error


def test_env_vars_read_are_the_github_context_the_logins_and_the_engine() -> None:
    assert set(GITHUB_ENV_VARS) <= set(image_command.ENV_VARS_READ)
    assert {"DOCKER_HOST", "SOURCE_DATE_EPOCH"} <= set(image_command.ENV_VARS_READ)


# --- env vars that meant something else in other commands -------------------------------

RENAMED = [  # option, new env var, old env var, old value, value the option gets
    ("no_cache", "CI_TOOLKIT_IMAGE_NO_CACHE", "CI_TOOLKIT_NO_CACHE", "true", True),
    ("smoke_timeout", "CI_TOOLKIT_CONTAINER_CHECK_TIMEOUT", "CI_TOOLKIT_SMOKE_TIMEOUT", "5",
     5.0),
    ("domain", "CI_TOOLKIT_IMAGE_DOMAIN", "CI_TOOLKIT_DOMAIN", "domain", Path("domain")),
]


def parsed_build_options(monkeypatch: pytest.MonkeyPatch, environ: dict[str, str],
                         *args: str) -> dict[str, object]:
    for name in ("GITHUB_ACTIONS", *(new for _, new, _, _, _ in RENAMED),
                 *(old for _, _, old, _, _ in RENAMED)):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    command = image_command.image.commands["build"]
    with command.make_context("build", list(args)) as ctx:
        return dict(ctx.params)


@pytest.mark.parametrize(("option", "new", "old", "raw", "value"), RENAMED)
def test_the_image_command_has_its_own_env_var_names(
    option: str, new: str, old: str, raw: str, value: object,
) -> None:
    options = {param.name: param for param in image_command.image.commands["build"].params}
    assert options[option].envvar == new
    assert old in image_command.ENV_VARS_READ  # still read, for one release
    assert new in RENAMED_ENV_VARS and RENAMED_ENV_VARS[new][0] == old


@pytest.mark.parametrize(("option", "new", "old", "raw", "value"), RENAMED)
def test_only_the_old_name_set_is_still_read_with_a_deprecation_warning(
    option: str, new: str, old: str, raw: str, value: object,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    params = parsed_build_options(monkeypatch, {old: raw, "GITHUB_ACTIONS": "true"})
    assert params[option] == value
    captured = capsys.readouterr()
    warning = f"{old} is deprecated for `ci-toolkit image build` because it also sets "
    assert captured.err.startswith(f"warning: {warning}")
    assert f"set {new} instead. {old} is still read in this release" in captured.err
    assert captured.out.startswith(
        f"::warning title=Deprecated environment variable::{warning}")


@pytest.mark.parametrize(("option", "new", "old", "raw", "value"), RENAMED)
def test_the_new_name_wins_silently_and_so_does_the_command_line(
    option: str, new: str, old: str, raw: str, value: object,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    params = parsed_build_options(monkeypatch, {new: raw, old: "nonsense"})
    assert params[option] == value
    flag = f"--{option.replace('_', '-')}"
    args = [flag] if value is True else [flag, raw]
    params = parsed_build_options(monkeypatch, {old: "nonsense"}, *args)
    assert params[option] == value
    assert capsys.readouterr() == ("", "")


def test_without_either_name_the_defaults_hold(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    params = parsed_build_options(monkeypatch, {})
    assert (params["no_cache"], params["smoke_timeout"], params["domain"]) == (
        False, 60.0, Path("domain.yml"))
    assert capsys.readouterr() == ("", "")


def test_a_bad_value_under_the_old_name_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CI_TOOLKIT_SMOKE_TIMEOUT", "0.5")
    monkeypatch.delenv("CI_TOOLKIT_CONTAINER_CHECK_TIMEOUT", raising=False)
    assert main(["image", "build", "--context", str(EXAMPLE)]) == 2
    assert "0.5 is not in the range x>=1" in capsys.readouterr().err


def test_the_action_passes_the_new_names_only() -> None:
    action = yaml.safe_load((paths.REPO_ROOT / "action-server" / "action.yml").read_text())
    step = next(step for step in action["runs"]["steps"] if step.get("id") == "image")
    # The action has no input for the container check's timeout.
    assert {"CI_TOOLKIT_IMAGE_NO_CACHE", "CI_TOOLKIT_IMAGE_DOMAIN"} <= set(step["env"])
    assert not {old for old, _ in RENAMED_ENV_VARS.values()} & set(step["env"])
