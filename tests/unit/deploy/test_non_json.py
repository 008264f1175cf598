"""Rasa X, the Rasa server and the assistant's REST channel answering with an HTML page, a
redirect to a login, garbage or JSON of the wrong shape where JSON is expected: exit 1 with
a message that names the service, the endpoint and what came back (its first characters,
without secrets), never a traceback. Against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ci_toolkit.cli import main
from tests.fakes.rasax_server import FakeRasaX, model_archive, running_fake_rasax

TOKEN = "rx-token-nonjson-4c2b9e"
PASSWORD = "pw-nonjson-e81d"
LOGIN_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Sign in - Corp SSO</title></head>"
              b"<body><form action='/login'>" + b"x" * 400 + b"</form></body></html>")
JSON = "application/json"


@dataclass
class Case:
    """One fault: a request answered with ``body``; the command; what the message says."""

    command: str  # rasax | rasax-password | rasa-server | smoke
    method: str
    path: str
    status: int
    body: bytes
    says: list[str]
    content_type: str = "text/html; charset=utf-8"
    before: list[tuple[str, str, bytes]] = field(default_factory=list)  # good answers first
    headers: dict[str, str] = field(default_factory=dict)


GOOD_STATUS = ("GET", "/status$", b'{"model_file": "old.tar.gz", "model_id": "1"}')
GOOD_WEBHOOK = ("POST", "/webhooks/rest/webhook$", b'[{"text": "Hi there"}]')

CASES = {
    "login page instead of the token": Case(
        "rasax-password", "POST", "/api/auth$", 200, LOGIN_PAGE,
        ["Rasa X: log in (POST http://127.0.0.1:", "/api/auth) answered HTTP 200 with an HTML "
         "page, not JSON: \"<!DOCTYPE html> <html><head><title>Sign in - Corp SSO", "...\"",
         "Check that --rasax-url is the base URL of Rasa X itself"]),
    "login JSON of another shape": Case(
        "rasax-password", "POST", "/api/auth$", 200, b'["access_token"]',
        ["log in", "answered HTTP 200 with JSON that is not an object with an access_token: "
         "\"[\"access_token\"]\""], content_type=JSON),
    "login refused with a page": Case(
        "rasax-password", "POST", "/api/auth$", 401, LOGIN_PAGE,
        ["Rasa X refused the credentials (401) on log in: an HTML page: \"<!DOCTYPE html>",
         "CI_TOOLKIT_RASAX_PASSWORD"]),
    "health is garbage": Case(
        "rasax", "GET", "/api/health$", 200, b"\x00\xff\xfe\x1f\x8b garbage",
        ["Rasa X: check health (GET http://127.0.0.1:", "/api/health) answered HTTP 200 with "
         "application/octet-stream data, not JSON: \"?", "garbage\""],
        content_type="application/octet-stream"),
    "health nested to death": Case(
        "rasax", "GET", "/api/health$", 200, b"[" * 200_000 + b"]" * 200_000,
        ["check health", "with application/json data, not JSON: \"[[[["], content_type=JSON),
    "health is a proxy's 502 page": Case(
        "rasax", "GET", "/api/health$", 502, b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        ["Rasa X: check health failed after", "HTTP 502: an HTML page: \"<html><body><h1>502 "
         "Bad Gateway</h1></body></html>\""]),
    "upload redirected to a login page": Case(
        "rasax", "POST", "/models$", 302, b"", headers={"Location": "/sso/login?next=x"},
        before=[("GET", "/sso/login$", LOGIN_PAGE)],
        says=["Rasa X: upload 20260102-3f2c1ab.tar.gz (POST http://127.0.0.1:",
              "/api/projects/default/models, redirected to http://127.0.0.1:",
              "/sso/login) answered HTTP 200, expected 201 or 409: an HTML page: "
              "\"<!DOCTYPE html>"]),
    "model list is a page": Case(
        "rasax", "GET", "/models$", 200, LOGIN_PAGE,
        ["Rasa X: list models (GET http://127.0.0.1:", "/api/projects/default/models) answered "
         "HTTP 200 with an HTML page, not JSON"]),
    "model list is an object": Case(
        "rasax", "GET", "/models$", 200, b'{"models": []}',
        ["list models", "with JSON that is not a list of models: \"{\"models\": []}\""],
        content_type=JSON),
    "tag answered by a page": Case(
        "rasax", "PUT", "/tags/", 200, LOGIN_PAGE,
        ["Rasa X: tag model '20260102-3f2c1ab' as 'production' (PUT http://127.0.0.1:",
         "answered HTTP 200, expected 204: an HTML page"]),
    "status is a page": Case(
        "rasa-server", "GET", "/status$", 200, LOGIN_PAGE,
        ["Rasa server: read /status (GET http://127.0.0.1:", "/status) answered HTTP 200 with "
         "an HTML page, not JSON", "Check that --rasa-url is the base URL of the Rasa server"]),
    "status is a list": Case(
        "rasa-server", "GET", "/status$", 200, b'["old.tar.gz"]',
        ["read /status", "JSON that is not an object with the model_file"], content_type=JSON),
    "status names no file": Case(
        "rasa-server", "GET", "/status$", 200, b'{"model_file": {"a": 1}}',
        ["read /status", "expected a model_file that is a file name"], content_type=JSON),
    "status refused with text": Case(
        "rasa-server", "GET", "/status$", 403, b"Forbidden by policy\n",
        ["The Rasa server refused the request to read /status (403): text/plain data: "
         "\"Forbidden by policy\""], content_type="text/plain"),
    "model switch answered by a page": Case(
        "rasa-server", "PUT", "/model$", 200, LOGIN_PAGE, before=[GOOD_STATUS],
        says=["Rasa server: replace the model (PUT http://127.0.0.1:",
              "answered HTTP 200, expected 204: an HTML page"]),
    "webhook is a page": Case(
        "smoke", "POST", "/webhooks/rest/webhook$", 200, LOGIN_PAGE,
        ["Smoke test: the REST channel (POST http://127.0.0.1:", "/webhooks/rest/webhook) "
         "answered HTTP 200 with an HTML page, not JSON", "Check that --smoke-url is the base "
         "URL of the Rasa server itself"]),
    "webhook is an object": Case(
        "smoke", "POST", "/webhooks/rest/webhook$", 200, b'{"text": "Hi there"}',
        ["the REST channel", "with JSON that is not a list of bot messages"], content_type=JSON),
    "webhook error page": Case(
        "smoke", "POST", "/webhooks/rest/webhook$", 400, b"<html>Bad request</html>",
        ["the REST channel", "answered HTTP 400, expected 200: an HTML page: \"<html>Bad "
         "request</html>\""]),
    "parse is garbage": Case(
        "smoke", "POST", "/model/parse$", 200, b"\x89PNG\r\n\x1a\n", before=[GOOD_WEBHOOK],
        says=["Smoke test: POST /model/parse (POST http://127.0.0.1:", "/model/parse) answered "
              "HTTP 200 with image/png data, not JSON"], content_type="image/png"),
    "parse is a list": Case(
        "smoke", "POST", "/model/parse$", 200, b"[]", before=[GOOD_WEBHOOK],
        says=["POST /model/parse", "JSON that is not a parse result"], content_type=JSON),
}

SMOKE = "conversations:\n  - steps:\n      - user: hi\n        bot: Hi\n        intent: greet\n"


@pytest.fixture
def rasax(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRasaX]:
    monkeypatch.setenv("CI_TOOLKIT_RASA_TOKEN", TOKEN)
    with running_fake_rasax(FakeRasaX(api_tokens={TOKEN}, users={"ci": PASSWORD})) as fake:
        yield fake


def command_line(case: Case, url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                 ) -> list[str]:
    smoke = tmp_path / "smoke.yml"
    smoke.write_text(SMOKE)
    model = str(model_archive(tmp_path / "20260102-3f2c1ab.tar.gz"))
    if case.command == "smoke":
        return ["smoke-test", "--smoke-tests", str(smoke), "--smoke-url", url,
                "--smoke-timeout", "2"]
    if case.command == "rasa-server":
        return ["deploy", "--model-target", "rasa-server", "--rasa-url", url, "--model", model,
                "--http-timeout", "2"]
    if case.command == "rasax-password":
        monkeypatch.setenv("CI_TOOLKIT_RASAX_PASSWORD", PASSWORD)
        return ["deploy", "--model-target", "rasa-x", "--model", model, "--rasax-url", url,
                "--rasax-username", "ci", "--http-timeout", "2"]
    monkeypatch.setenv("CI_TOOLKIT_RASAX_TOKEN", TOKEN)
    return ["deploy", "--model-target", "rasa-x", "--model", model, "--rasax-url", url,
            "--http-timeout", "2"]


@pytest.mark.parametrize("name", list(CASES))
def test_an_answer_that_is_not_the_expected_json_is_a_clear_error(
        name: str, rasax: FakeRasaX, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES[name]
    for method, path, body in case.before:
        rasax.answer_with(method, path, 200, body, content_type=JSON)
    rasax.answer_with(case.method, case.path, case.status, case.body,
                      content_type=case.content_type, headers=case.headers)

    code = main(command_line(case, rasax.base_url, tmp_path, monkeypatch))

    captured = capsys.readouterr()
    shown = " ".join((captured.out + captured.err).split())
    assert code == 1, shown
    for part in case.says:
        assert " ".join(part.split()) in shown
    assert "Traceback" not in shown and "bug in ci-toolkit" not in shown
    assert TOKEN not in shown and PASSWORD not in shown


@pytest.mark.parametrize("echo", [
    f"<html>api_token={TOKEN}</html>".encode(),
    f'<html><pre>{{"username": "ci", "password": "{PASSWORD}"}}</pre></html>'.encode(),
    ("<html>" + "".join(f"\\u{ord(char):04x}" for char in PASSWORD)).encode(),
])
def test_what_came_back_is_quoted_without_secrets(
        echo: bytes, rasax: FakeRasaX, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    rasax.answer_with("POST", "/api/auth$", 200, echo)
    code = main(command_line(Case("rasax-password", "", "", 0, b"", []), rasax.base_url,
                             tmp_path, monkeypatch))
    captured = capsys.readouterr()
    assert code == 1
    assert "answered HTTP 200 with an HTML page, not JSON: \"<html>" in captured.err
    assert "***" in captured.err
    assert TOKEN not in captured.err and PASSWORD not in captured.err
    assert "\\u0070\\u0077" not in captured.err  # the unicode-escaped password
