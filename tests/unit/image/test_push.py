"""Pushing with bounded retries, against a stand-in for the engine's push API."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from docker.errors import APIError

from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.image.names import ImageNames
from ci_toolkit.image.push import RegistryCredentials, push_image
from ci_toolkit.proc import Console

NAMES = ImageNames(repository="127.0.0.1:5000/coffeebot/actions", tag="abc123",
                   extra_tags=("latest",))
DIGEST = "sha256:" + "0" * 64
PUSHED = [{"status": "Pushed", "id": "5f70bf18a086"}, {"aux": {"Digest": DIGEST}}]
REFUSED = [{"error": "connection refused"}]


class FakeAPI:
    """Answers each push with the next outcome: a list of stream chunks or an exception."""

    def __init__(self, *outcomes: list[dict[str, Any]] | Exception) -> None:
        self.outcomes = list(outcomes)
        self.pushed: list[tuple[str, str, dict[str, str] | None]] = []

    def push(self, repository: str, *, tag: str, stream: bool, decode: bool,
             auth_config: dict[str, str] | None) -> Iterator[dict[str, Any]]:
        assert stream and decode
        self.pushed.append((repository, tag, auth_config))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return iter(outcome)


class FakeClient:
    def __init__(self, api: FakeAPI) -> None:
        self.api = api


def push(api: FakeAPI, *, attempts: int = 3, names: ImageNames = NAMES,
         credentials: RegistryCredentials | None = None) -> tuple[str, list[float], str]:
    sleeps: list[float] = []
    screen = io.StringIO()
    digest = push_image(FakeClient(api), names, credentials=credentials,  # type: ignore[arg-type]
                        console=Console(screen), attempts=attempts, sleep=sleeps.append)
    return digest, sleeps, screen.getvalue()


def test_every_tag_is_pushed_and_the_one_digest_returned() -> None:
    api = FakeAPI(PUSHED, PUSHED)
    digest, sleeps, _ = push(api)
    assert digest == DIGEST and sleeps == []
    assert [tag for _, tag, _ in api.pushed] == ["abc123", "latest"]


def test_a_passing_failure_is_tried_again_after_a_growing_wait() -> None:
    api = FakeAPI(REFUSED, REFUSED, PUSHED, PUSHED)
    digest, sleeps, screen = push(api)
    assert digest == DIGEST and sleeps == [2.0, 4.0]
    assert ("[image] push of 127.0.0.1:5000/coffeebot/actions:abc123 failed (connection "
            "refused); attempt 2/3 in 2 s") in screen
    assert "attempt 3/3 in 4 s" in screen


def test_retries_are_bounded_and_the_last_reason_is_named() -> None:
    api = FakeAPI(REFUSED, REFUSED)
    with pytest.raises(ToolkitError) as raised:
        push(api, attempts=2)
    assert raised.value.message == (
        "Could not push 127.0.0.1:5000/coffeebot/actions:abc123 after 2 attempts: connection "
        "refused. Check that the registry 127.0.0.1:5000 is up and reachable from the Docker "
        "engine.")
    assert len(api.pushed) == 2


def test_a_refusal_is_not_retried() -> None:
    api = FakeAPI([{"error": "unauthorized: authentication required"}])
    with pytest.raises(ToolkitError, match="The registry refused the push") as raised:
        push(api)
    assert "Set CI_TOOLKIT_REGISTRY_USERNAME" in raised.value.message
    assert len(api.pushed) == 1


def test_a_missing_local_image_says_to_build_first() -> None:
    api = FakeAPI(APIError("404", explanation="An image does not exist locally with the tag"))
    with pytest.raises(ToolkitError, match="Build it first with `ci-toolkit image build`"):
        push(api)


def test_the_password_is_redacted_in_every_spelling_and_sent_only_as_auth_config() -> None:
    credentials = RegistryCredentials(username="ci-bot", password="p@ss/w0rd+long")
    echoed = f"denied: token {quote(credentials.password, safe='')} for ci-bot"
    api = FakeAPI([{"error": echoed}])
    with pytest.raises(ToolkitError) as raised:
        push(api, credentials=credentials)
    assert "p%40ss" not in raised.value.message and "***" in raised.value.message
    assert api.pushed[0][2] == {"username": "ci-bot", "password": credentials.password}


def test_attempts_below_one_are_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--push-attempts must be at least 1"):
        push(FakeAPI(), attempts=0)
