"""The `image` command's contract: options, env vars, credentials and errors before any engine."""

from __future__ import annotations

import io
from pathlib import Path

import click
import pytest

from ci_toolkit.cli import COMMANDS, main
from ci_toolkit.commands import image as image_command
from ci_toolkit.errors import UsageError
from ci_toolkit.gha import ActionsRuntime
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
    found = image_command._read_credentials(environ, ActionsRuntime(
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
