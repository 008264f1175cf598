"""The deploy request: options declared once, secrets from the environment only, and wrong
combinations of options refused before anything remote is tried."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_toolkit.cli import main
from ci_toolkit.commands import deploy as command
from ci_toolkit.deploy.helm import IMAGE_KEY_PRESETS
from ci_toolkit.deploy.request import (
    IMAGE_KEY_PRESET_NAMES,
    SECRET_ENV_VARS,
    DeployRequest,
    DeploySecrets,
    HelmRequest,
    ModelRequest,
    SmokeRequest,
)
from tests.fakes.rasax_server import model_archive


def test_secrets_are_the_documented_env_vars_and_are_masked_first() -> None:
    assert SECRET_ENV_VARS == ("CI_TOOLKIT_RASAX_TOKEN", "CI_TOOLKIT_RASAX_PASSWORD",
                               "CI_TOOLKIT_RASA_TOKEN", "CI_TOOLKIT_MODEL_SERVER_TOKEN")
    masked: list[str | None] = []
    secrets = DeploySecrets.from_environ(
        {"CI_TOOLKIT_RASAX_TOKEN": "rx-1", "CI_TOOLKIT_RASA_TOKEN": "", "OTHER": "x"},
        masked.append)
    assert secrets == DeploySecrets(rasax_token="rx-1")
    assert masked == ["rx-1", None, None, None]
    assert repr(secrets) == "DeploySecrets(set: rasax_token)"


def test_the_command_reads_its_secrets_and_the_actions_files() -> None:
    assert set(command.ENV_VARS_READ) == {*SECRET_ENV_VARS, "GITHUB_ACTIONS", "GITHUB_OUTPUT",
                                          "GITHUB_STEP_SUMMARY"}


def test_image_key_choices_are_the_helm_presets_default_first() -> None:
    assert set(IMAGE_KEY_PRESET_NAMES) == set(IMAGE_KEY_PRESETS)
    assert IMAGE_KEY_PRESET_NAMES[0] == HelmRequest().helm_image_keys == "assistant-ci"


def test_the_smoke_url_defaults_to_the_server_the_model_went_to() -> None:
    def request(**target: str) -> DeployRequest:
        return DeployRequest(ModelRequest(rasa_url="http://rasa:5005",
                                          rasax_url="https://rasax.example", **target),  # type: ignore[arg-type]
                             HelmRequest(), SmokeRequest())

    assert request(model_target="rasa-server").smoke_url() == "http://rasa:5005"
    assert request(model_target="rasa-x").smoke_url() == "https://rasax.example"
    explicit = DeployRequest(ModelRequest(), HelmRequest(), SmokeRequest(smoke_url="http://bot"))
    assert explicit.smoke_url() == "http://bot"


@pytest.mark.parametrize(("argv", "message"), [
    (["--model-target", "rasa-x"], "--model-target rasa-x needs --model"),
    (["--model-target", "rasa-x", "--model", "missing.tar.gz", "--rasax-url", "http://x"],
     "The model 'missing.tar.gz' does not exist"),
    (["--model-target", "rasa-server"], "--model-target rasa-server needs --rasa-url"),
    (["--model-target", "rasa-server", "--rasa-url", "http://127.0.0.1:9",
      "--server-model-file", "/m.tar.gz", "--model-server-url", "http://models"],
     "exactly one model source"),
    (["--model-target", "nowhere"], "'nowhere' is not one of"),
    (["--smoke-tests", "smoke.yml"], "--smoke-tests needs the assistant's URL"),
    (["--helm-release", "coffee", "--helm-timeout", "ten minutes"], "is not a duration"),
])
def test_wrong_options_are_usage_errors(argv: list[str], message: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "smoke.yml").write_text("conversations:\n  - steps:\n      - user: hi\n")
    assert main(["deploy", *argv]) == 2
    assert message in capsys.readouterr().err


def test_missing_rasa_x_credentials_are_named(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    model = model_archive(tmp_path / "m.tar.gz")
    assert main(["deploy", "--model-target", "rasa-x", "--model", str(model),
                 "--rasax-url", "http://127.0.0.1:9"]) == 2
    assert "CI_TOOLKIT_RASAX_TOKEN" in capsys.readouterr().err


def test_secrets_are_masked_before_a_usage_error(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("CI_TOOLKIT_RASAX_TOKEN", "rx-token-77aa")
    assert main(["deploy", "--model-target", "rasa-x"]) == 2
    assert "::add-mask::rx-token-77aa" in capsys.readouterr().out


def test_smoke_test_needs_the_conversations(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["smoke-test", "--smoke-url", "http://127.0.0.1:9"]) == 2
    assert "--smoke-tests FILE" in capsys.readouterr().err
