"""HttpCaller: bounded retries on a fake clock, and no secret in any message, even when a
server echoes the login back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import requests

from ci_toolkit.deploy.http import HttpCaller, RetryPolicy
from ci_toolkit.deploy.rasa_server import ModelSource, RasaServerClient, ServerStatus
from ci_toolkit.deploy.rasax import RasaXClient, RasaXCredentials
from ci_toolkit.errors import ToolkitError
from ci_toolkit.retry import Backoff
from tests.fakes.rasax_server import FakeRasaX, running_fake_rasax

TOKEN = "tok-5f3a9c81"
# Quote, slash, ampersand, space, non-ASCII: each is spelled differently by some encoding.
PASSWORD = 'pa"55/w\u00f6rd&e7 d1'


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None
           ) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode() if body is not None else b""
    response.headers.update(headers or {})
    return response


class FakeSession:
    """Plays a list of answers (or exceptions to raise) on its own fake clock: each call takes
    ``call_s``, and the caller's waits (``sleep``) move the clock too."""

    def __init__(self, outcomes: list[requests.Response | Exception], call_s: float = 0.0
                 ) -> None:
        self.outcomes = iter(outcomes)
        self.call_s = call_s
        self.now = 0.0
        self.slept: list[float] = []
        self.calls: list[dict[str, Any]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.calls.append({"method": method, "url": url, **kwargs})
        self.now += self.call_s
        outcome = next(self.outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def caller(session: FakeSession, logs: list[str], *, total_s: float = 60.0) -> HttpCaller:
    policy = RetryPolicy(total_s=total_s, connect_timeout_s=10, read_timeout_s=30,
                         backoff=Backoff(1.0, 8.0))
    return HttpCaller(session, service="Rasa X", secrets=(TOKEN,), retry=policy,  # type: ignore[arg-type]
                      log=logs.append, sleep=session.sleep, clock=session.clock)


URL = f"http://rasax.example/api/models?api_token={TOKEN}"


def test_5xx_and_connection_errors_are_retried_and_below_500_is_returned() -> None:
    session = FakeSession([answer(503, {"message": "busy"}),
                           requests.ConnectionError(f"HTTPConnectionPool: Max retries exceeded "
                                                    f"with url: {URL} (Caused by NewConnection"
                                                    "Error('[Errno 111] Connection refused'))"),
                           answer(404, {"message": "nope"})])
    logs: list[str] = []

    response = caller(session, logs).request("GET", URL, what="list models")

    assert response.status_code == 404
    assert session.slept == [1.0, 2.0]
    assert logs[0] == ("GET http://rasax.example/api/models: HTTP 503: busy; retrying in 1.0 s "
                       "(attempt 1)")
    assert "connection failed (Connection refused" in logs[1] and "(attempt 2)" in logs[1]
    assert logs[2] == "GET http://rasax.example/api/models -> 404"
    assert TOKEN not in "\n".join(logs)


def test_retry_after_sets_the_wait() -> None:
    session = FakeSession([answer(503, headers={"Retry-After": "5"}), answer(200, {})])
    caller(session, []).request("GET", URL, what="list models")
    assert session.slept == [5.0]


def test_the_read_timeout_is_cut_to_what_is_left_of_the_budget() -> None:
    session = FakeSession([answer(502), answer(502), answer(200, {})], call_s=10.0)
    caller(session, [], total_s=45.0).request("GET", URL, what="list models")
    timeouts = [call["timeout"] for call in session.calls]
    # 45 s budget: 0 s used, then 11 s, then 23 s (10 s per call plus the waits).
    assert timeouts == [(10, 30), (10, 30), (10, 22.0)]


def test_giving_up_names_attempts_elapsed_time_and_the_time_option() -> None:
    session = FakeSession([requests.Timeout(f"Read timed out. {URL}")] * 10, call_s=2.0)
    with pytest.raises(ToolkitError) as caught:
        caller(session, [], total_s=12.0).request("POST", URL, what="upload m.tar.gz")

    # 2 s call, 1 s wait, 2 s call, 2 s wait, 2 s call = 9 s; a 4 s wait would pass 12 s.
    # The last attempt started at 7 s, so it could wait 5 s for an answer.
    assert caught.value.message == (
        "Rasa X: upload m.tar.gz failed after 3 attempt(s) in 9 s: no answer within 5 s "
        "(POST http://rasax.example/api/models). Check that the service is running and "
        "reachable from this machine, or allow more time (--http-timeout).")


def test_a_malformed_url_is_not_retried() -> None:
    session = FakeSession([requests.exceptions.InvalidURL(f"Invalid URL {URL}")])
    with pytest.raises(ToolkitError) as caught:
        caller(session, []).request("GET", URL, what="check health")
    assert caught.value.message.startswith("Rasa X: check health failed: Invalid URL")
    assert caught.value.message.endswith("Check the URL option.")
    assert TOKEN not in caught.value.message
    assert len(session.calls) == 1 and session.slept == []


def test_every_attempt_gets_fresh_files_and_closes_them() -> None:
    opened: list[Any] = []

    class Part:
        closed = False

        def close(self) -> None:
            self.closed = True

    def files() -> dict[str, Any]:
        opened.append(Part())
        return {"model": ("m.tar.gz", opened[-1])}

    session = FakeSession([answer(500), answer(201, {})])
    caller(session, []).request("POST", URL, what="upload", files=files)
    assert len(opened) == 2 and all(part.closed for part in opened)
    assert [call["files"]["model"][1] for call in session.calls] == opened


@pytest.fixture
def echoing_rasax() -> Iterator[FakeRasaX]:
    fake = FakeRasaX(users={"ci_user": "the-right-password"}, echo_login=True)
    with running_fake_rasax(fake) as server:
        yield server


def test_a_401_that_echoes_the_login_shows_the_password_in_no_spelling(
        echoing_rasax: FakeRasaX) -> None:
    logs: list[str] = []
    with requests.Session() as session:
        client = RasaXClient(session, echoing_rasax.base_url,
                             RasaXCredentials(username="ci_user", password=PASSWORD),
                             retry=RetryPolicy(total_s=10), log=logs.append)
        with pytest.raises(ToolkitError) as caught:
            client.login()

    message = caught.value.message
    # The echo really reached the message: the user name it quotes is there.
    assert "401" in message and "ci_user" in message and "Incorrect user" in message
    assert "%22username%22%3A+%22ci_user%22" in message  # the URL-encoded echo is there too
    assert "CI_TOOLKIT_RASAX_PASSWORD" in message
    spelled = {PASSWORD, json.dumps(PASSWORD)[1:-1], json.dumps(PASSWORD, ensure_ascii=False)[1:-1],
               json.dumps(PASSWORD)[1:-1].replace("/", "\\/"), quote(PASSWORD, safe=""),
               quote(PASSWORD), quote_plus(PASSWORD), quote_plus(json.dumps(PASSWORD)[1:-1])}
    for text in (message, "\n".join(logs)):
        for form in spelled:
            assert form not in text
        # The part of the password that JSON and URLs both leave alone is gone too.
        assert "e7" not in text


def rasa_server(statuses: list[str | None]) -> tuple[RasaServerClient, FakeSession]:
    """A Rasa server client whose /status answers name these model files in turn."""
    session = FakeSession([answer(200, {"model_file": name, "model_id": "id"}) if name
                           else answer(409, {"message": "no model"}) for name in statuses],
                          call_s=0.5)
    client = RasaServerClient(session, "http://rasa:5005", token=TOKEN)  # type: ignore[arg-type]
    client.http.sleep, client.http.clock = session.sleep, session.clock
    return client, session


def test_waiting_for_the_model_polls_status_every_second() -> None:
    client, session = rasa_server([None, "old.tar.gz", "new.tar.gz"])
    status = client.wait_for_model(ModelSource(model_file="/models/new.tar.gz"),
                                   ServerStatus("old.tar.gz", "id"), timeout_s=10)
    assert status.model_file == "new.tar.gz"
    assert session.slept == [1.0, 1.0]
    assert all(call["params"] == {"token": TOKEN} for call in session.calls)


def test_a_model_that_never_shows_up_is_an_error_after_the_timeout() -> None:
    client, session = rasa_server(["old.tar.gz"] * 10)
    with pytest.raises(ToolkitError) as caught:
        client.wait_for_model(ModelSource(model_file="/models/new.tar.gz"),
                              ServerStatus("old.tar.gz", "id"), timeout_s=3)
    assert caught.value.message == (
        "The Rasa server still reports model 'old.tar.gz' after 3 s, expected new.tar.gz. "
        "Check the server's log for a loading error.")
    # Checks at 0, 1.5 and 3 s (each takes 0.5 s), the last one at the deadline.
    assert session.slept == [1.0, 1.0] and len(session.calls) == 3
