"""Reading the engine's build and push streams, replayed from real recordings
(tests/fixtures/image/README.md says how they were made)."""

from __future__ import annotations

import io
import json

import pytest

from ci_toolkit.errors import ToolkitError
from ci_toolkit.image.build import BuildLog, build_failure
from ci_toolkit.image.names import ImageNames
from ci_toolkit.image.push import (
    PushError,
    RegistryCredentials,
    _push_failure,
    login_failure,
    login_server,
    read_push_stream,
)
from ci_toolkit.proc import Console
from tests import paths

FIXTURES = paths.FIXTURES / "image"
NAMES = ImageNames(repository="127.0.0.1:5000/coffeebot/actions", tag="abc123")
CREDENTIALS = RegistryCredentials(username="ci-bot", password="S3cret-Registry-Passw0rd")


def chunks(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / name).read_text().splitlines()]


def replay_build(name: str) -> tuple[BuildLog, str, ToolkitError | None]:
    output = io.StringIO()
    log = BuildLog(Console(output))
    failure = None
    for chunk in chunks(name):
        if "error" in chunk:
            log.flush()
            failure = build_failure(chunk["error"], log.current_step)
            break
        log.feed(chunk)
    log.flush()
    return log, output.getvalue(), failure


def test_a_cold_build_is_read_step_by_step() -> None:
    log, output, failure = replay_build("build-cold.jsonl")
    assert failure is None
    result = log.result
    assert [step.number for step in result.steps] == list(range(1, 13))
    assert result.steps[0].instruction == "ARG RASA_SDK_VERSION=3.6.2"
    assert result.cached_steps == 0
    assert result.image_id.startswith("sha256:")
    # Every line is shown with the stage label, continued lines joined into one.
    assert "[image 00:00] Step 7/12 : RUN python -m pip install" in output
    assert result.step("RUN python -m pip install").instruction == (  # type: ignore[union-attr]
        "RUN python -m pip install --no-cache-dir --disable-pip-version-check -r "
        "/tmp/action-server-requirements.txt && rm /tmp/action-server-requirements.txt")


def test_a_code_only_rebuild_shows_the_requirements_layer_from_cache() -> None:
    result = replay_build("build-code-only.jsonl")[0].result
    assert result.step("RUN python -m pip install").cached is True  # type: ignore[union-attr]
    assert result.step("COPY ${REQUIREMENTS_FILE}").cached is True  # type: ignore[union-attr]
    assert result.step("COPY --chown=1001:0").cached is False  # type: ignore[union-attr]
    assert result.step("LABEL").cached is False  # type: ignore[union-attr]
    assert 0 < result.cached_steps < len(result.steps)


def test_a_failing_step_is_named_with_the_engines_reason() -> None:
    log, _, failure = replay_build("build-failed-step.jsonl")
    assert failure is not None
    assert failure.message == (
        "The image build failed at step 7/12 (RUN python -m pip install --no-cache-dir "
        "--disable-pip-version-check -r /tmp/action-server-requirements.txt && rm "
        "/tmp/action-server-requirements.txt): The command '/bin/sh -c python -m pip install "
        "--no-cache-dir --disable-pip-version-check -r /tmp/action-server-requirements.txt && "
        "rm /tmp/action-server-requirements.txt' returned a non-zero code: 1. "
        "The build output above shows the cause.")
    # pip's own explanation was streamed (its colour codes are gone from the kept log).
    assert any(line.startswith("ERROR: Invalid requirement: 'this is not a requirement!!'")
               for line in log.result.log)


def test_a_missing_base_image_points_at_the_version_options() -> None:
    failure = build_failure("pull access denied for rasa/rasa-sdk, repository does not exist "
                            "or may require 'docker login'", None)
    assert failure.message.startswith("The image build failed before its first step: pull "
                                      "access denied")
    assert "--rasa-sdk-version (CI_TOOLKIT_RASA_SDK_VERSION)" in failure.message


def test_a_push_stream_yields_the_digest_and_one_line_per_layer_event() -> None:
    output = io.StringIO()
    digest = read_push_stream(chunks("push-ok.jsonl"), console=Console(output),
                              redact=lambda text: text)
    assert digest.startswith("sha256:") and len(digest) == 71
    lines = output.getvalue().splitlines()
    assert any(line.endswith("Pushed") for line in lines)
    assert not any("Pushing" in line for line in lines)  # byte counters are dropped


def test_registry_down_during_a_push_is_transient() -> None:
    with pytest.raises(PushError) as raised:
        read_push_stream(chunks("push-registry-down.jsonl"), console=Console(io.StringIO()),
                         redact=lambda text: text)
    assert raised.value.transient
    failure = _push_failure(NAMES, "abc123", raised.value, 3, None)
    assert failure.message.startswith(
        "Could not push 127.0.0.1:5000/coffeebot/actions:abc123 after 3 attempts: Get ")
    assert "is up and reachable" in failure.message


def test_a_refused_push_is_permanent_and_says_how_to_log_in() -> None:
    error = PushError("unauthorized: authentication required", transient=False)
    message = _push_failure(NAMES, "abc123", error, 1, None).message
    assert message == (
        "The registry refused the push of 127.0.0.1:5000/coffeebot/actions:abc123: "
        "unauthorized: authentication required. Set CI_TOOLKIT_REGISTRY_USERNAME and "
        "CI_TOOLKIT_REGISTRY_PASSWORD to log in.")


def test_login_failures_tell_a_wrong_password_from_a_registry_that_is_down() -> None:
    recorded = json.loads((FIXTURES / "login-errors.json").read_text())
    wrong = login_failure("127.0.0.1:5000", CREDENTIALS,
                          recorded["wrong_password"]["explanation"]).message
    assert wrong.startswith("Login to the registry 127.0.0.1:5000 as 'ci-bot' failed: login "
                            "attempt to http://")
    assert "401 Unauthorized" in wrong
    down = login_failure("127.0.0.1:5000", CREDENTIALS,
                         recorded["registry_down"]["explanation"]).message
    assert down.startswith("Could not reach the registry 127.0.0.1:5000 to log in: ")
    assert "connection refused" in down


def test_a_password_echoed_by_the_engine_is_redacted() -> None:
    message = login_failure("r.example", CREDENTIALS,
                            f"bad credentials {CREDENTIALS.password} rejected").message
    assert CREDENTIALS.password not in message and "***" in message
    assert CREDENTIALS.password not in repr(CREDENTIALS)


def test_docker_hub_logins_use_the_engines_default_server() -> None:
    assert login_server("docker.io") is None
    assert login_server("ghcr.io") == "ghcr.io"
