"""The interpreter probe, a server that cannot start, and the HTTP client (against a local
HTTP server that records what it receives)."""

from __future__ import annotations

import json
import sys
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests

from ci_toolkit.actions.server import ActionClient, LocalActionServer, probe_environment
from ci_toolkit.errors import ToolkitError, UsageError


def test_an_interpreter_without_rasa_sdk(tmp_path: Path) -> None:
    # The toolkit's own interpreter has pytest but not rasa-sdk.
    with pytest.raises(UsageError, match=r"has no rasa-sdk installed.*point --python"):
        probe_environment(sys.executable)
    with pytest.raises(UsageError, match="Could not run the action server's Python"):
        probe_environment(str(tmp_path / "no-python"))
    with pytest.raises(UsageError, match="is not a Python 3 interpreter"):
        probe_environment("/bin/true")


def test_a_server_that_exits_at_once_says_why(tmp_path: Path) -> None:
    (tmp_path / "actions").mkdir()
    log = tmp_path / "results" / "server.log"
    with requests.Session() as session, pytest.raises(ToolkitError) as raised:
        with LocalActionServer(tmp_path, sys.executable, log, session=session, timeout_s=30):
            pass
    message = raised.value.message
    assert "exited with code 1 before /health answered" in message
    assert "No module named rasa_sdk" in message and str(log) in message
    assert "No module named rasa_sdk" in log.read_text()


def test_a_project_without_actions(tmp_path: Path) -> None:
    with requests.Session() as session, pytest.raises(UsageError, match="has no actions"):
        with LocalActionServer(tmp_path, sys.executable, tmp_path / "log", session=session):
            pass


class _Recorder(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, str | None, bytes]]] = []

    def do_GET(self) -> None:
        self._send(200, {"status": "ok"} if self.path == "/health" else [{"name": "a"}])

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers.get("Content-Encoding"), body))
        self._send(200, {"events": [], "responses": []})

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_the_client_posts_json_and_deflate(recorder: str) -> None:
    with requests.Session() as session:
        client = ActionClient(session, recorder)
        assert client.healthy()
        assert client.served_actions() == ("a",)
        assert client.call({"next_action": "a"}).body == {"events": [], "responses": []}
        assert client.call({"next_action": "b"}, deflate=True).status == 200
    [(path, encoding, body), (_, deflated, compressed)] = _Recorder.received
    assert (path, encoding, json.loads(body)) == ("/webhook", None, {"next_action": "a"})
    assert deflated == "deflate"
    assert json.loads(zlib.decompress(compressed)) == {"next_action": "b"}


def test_no_server_is_status_0() -> None:
    with requests.Session() as session:
        client = ActionClient(session, "http://127.0.0.1:9", timeout_s=2)
        answer = client.call({"next_action": "a"})
        assert not client.healthy() and client.served_actions() is None
    assert answer.status == 0 and "no answer from http://127.0.0.1:9/webhook" in answer.text
