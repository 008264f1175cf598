"""A local HTTP server that plays the Rasa X / Enterprise model API.

It implements the contract the Rasa docs and RasaHQ/rasactl use (see the docstring of
ci_toolkit/deploy/rasax.py) and refuses what Rasa X refuses:

  POST   /api/auth                               {"username","password"}
                                                 -> 200 {"access_token"} | 401
  GET    /api/health                             no auth; {production, worker, database_migration}
  GET    /api/projects/{p}/models                list of {model, hash, trained_at, version, tags}
  POST   /api/projects/{p}/models                multipart, field "model" = <name>.tar.gz (gzip)
                                                 -> 201 | 409 name exists | 400 bad form
  GET    /api/projects/{p}/models/{name}         200 the archive | 404
  DELETE /api/projects/{p}/models/{name}         204 | 404
  PUT    /api/projects/{p}/models/{name}/tags/{tag}  204 (the tag moves to this model) | 404

Authentication: ``?api_token=<token>`` or ``Authorization: Bearer <access_token from /api/auth>``;
anything else is 401. Only the project ``default`` exists; any other is 404, as is any
unknown path. Faults can be injected: answer a status for the next N matching requests, or
never answer at all (the socket stays open), or answer any body at all (an HTML login page,
garbage) after a delay or a byte at a time (``answer_with``). Faults match any path, so the
same server also plays a broken Rasa server (``/status``, ``/webhooks/rest/webhook``). With
``echo_login`` a refused login quotes the request body back in its 401 answer, as some
servers do. ``model_archive`` writes a model archive as `rasa train` does (a gzip tar).
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import io
import json
import re
import secrets
import tarfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote_plus, unquote, urlsplit

MODELS = re.compile(r"^/api/projects/(?P<project>[^/]+)/models$")
MODEL = re.compile(r"^/api/projects/(?P<project>[^/]+)/models/(?P<name>[^/]+)$")
TAG = re.compile(r"^/api/projects/(?P<project>[^/]+)/models/(?P<name>[^/]+)/tags/(?P<tag>[^/]+)$")


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    authorization: str | None
    status: int = 0


@dataclass
class StoredModel:
    data: bytes
    tags: set[str] = field(default_factory=set)
    trained_at: float = field(default_factory=time.time)


@dataclass
class Fault:
    method: str
    path_pattern: str
    statuses: list[int]  # answered in turn, one per matching request
    hang: bool = False   # never answer instead (the statuses are ignored)
    body: bytes | None = None  # this body as it is, instead of a Rasa X error
    content_type: str = "text/html; charset=utf-8"
    delay_s: float = 0.0    # wait this long before answering
    trickle_s: float = 0.0  # send the answer one byte at a time, this long apart
    headers: dict[str, str] = field(default_factory=dict)  # e.g. a Location to redirect


@dataclass
class FakeRasaX:
    api_tokens: set[str] = field(default_factory=set)
    users: dict[str, str] = field(default_factory=dict)  # username -> password
    projects: tuple[str, ...] = ("default",)
    models: dict[str, StoredModel] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    production_status: int = 200
    # A careless server: a refused login quotes the request body back (as JSON and as a form).
    echo_login: bool = False
    issued_bearers: set[str] = field(default_factory=set)
    base_url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def add_model(self, name: str, data: bytes, tags: tuple[str, ...] = ()) -> None:
        self.models[name] = StoredModel(data, set(tags))

    def tagged(self, tag: str) -> list[str]:
        return [name for name, model in self.models.items() if tag in model.tags]

    def calls(self, method: str | None = None, path_prefix: str = "") -> list[Recorded]:
        return [r for r in self.requests
                if (method is None or r.method == method) and r.path.startswith(path_prefix)]

    def fail_next(self, method: str, path_pattern: str, *statuses: int) -> None:
        self.faults.append(Fault(method, path_pattern, list(statuses)))

    def hang(self, method: str, path_pattern: str) -> None:
        self.faults.append(Fault(method, path_pattern, [], hang=True))

    def answer_with(self, method: str, path_pattern: str, status: int, body: bytes, *,
                    content_type: str = "text/html; charset=utf-8", times: int = 1000,
                    delay_s: float = 0.0, trickle_s: float = 0.0,
                    headers: dict[str, str] | None = None) -> None:
        """Answer the next ``times`` matching requests with exactly this body."""
        self.faults.append(Fault(method, path_pattern, [status] * times, body=body,
                                 content_type=content_type, delay_s=delay_s,
                                 trickle_s=trickle_s, headers=dict(headers or {})))


def model_archive(path: Path, content: bytes = b"model") -> Path:
    """A small model archive in the format `rasa train` writes: a gzip tar."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        member = tarfile.TarInfo("metadata.json")
        member.size = len(content)
        archive.addfile(member, io.BytesIO(content))
    path.write_bytes(buffer.getvalue())
    return path


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    @property
    def fake(self) -> FakeRasaX:
        return self.server.fake

    def _send(self, status: int, payload: Any = None, *, raw: bytes | None = None,
              content_type: str = "application/json") -> None:
        if raw is not None:
            body = raw
        else:
            body = b"" if payload is None else json.dumps(payload).encode()
        self._recorded.status = status  # before the answer leaves: the client may look at once
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 204:
            self.wfile.write(body)

    def _send_body(self, fault: Fault) -> None:
        status = fault.statuses[0]
        self._recorded.status = status
        head = (f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}\r\n"
                f"Content-Type: {fault.content_type}\r\n"
                + "".join(f"{name}: {value}\r\n" for name, value in fault.headers.items())
                + f"Content-Length: {len(fault.body or b'')}\r\n\r\n").encode()
        answer = head + (fault.body or b"")
        if not fault.trickle_s:
            self.wfile.write(answer)
            return
        for index in range(len(answer)):
            if self.fake.stop.wait(timeout=fault.trickle_s):
                break
            self.wfile.write(answer[index:index + 1])
            self.wfile.flush()
        self.close_connection = True

    def _error(self, status: int, message: str) -> None:
        # Rasa X error bodies carry a "message" key (FIN's Makefile checks it).
        self._send(status, {"version": "1.1.0", "status": "failure", "message": message,
                            "reason": {400: "BadRequest", 401: "NotAuthenticated",
                                       404: "NotFound", 409: "Conflict"}.get(status, "Error"),
                            "code": status})

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = parse_qs(parts.query)
        body = self._body()
        self._recorded = Recorded(method, path, query, self.headers.get("Authorization"))
        with self.fake.lock:
            self.fake.requests.append(self._recorded)
            fault = self._take_fault(method, path)
        if fault is not None:
            if fault.hang:
                # Hold the connection open without answering, until the test ends.
                self.fake.stop.wait(timeout=120)
                self.close_connection = True
                return
            if self.fake.stop.wait(timeout=fault.delay_s):
                return
            if fault.body is not None:
                self._send_body(fault)
                return
            self._error(fault.statuses.pop(0), "injected failure")
            return
        with self.fake.lock:
            self._route(method, path, query, body)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.fake.faults:
            if fault.method == method and re.search(fault.path_pattern, path):
                if fault.hang:
                    return fault
                if fault.statuses:
                    # One status per matching request; a spent fault matches nothing more.
                    return replace(fault, statuses=[fault.statuses.pop(0)])
        return None

    def _authenticated(self, query: dict[str, list[str]]) -> bool:
        token = (query.get("api_token") or [None])[0]
        if token is not None and token in self.fake.api_tokens:
            return True
        header = self.headers.get("Authorization") or ""
        if header.startswith("Bearer "):
            return header[len("Bearer "):] in self.fake.issued_bearers
        return False

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> None:
        if path == "/api/health" and method == "GET":
            self._send(200, {
                "production": {"version": "3.6.21", "minimum_compatible_version": "3.5.0",
                               "status": self.fake.production_status},
                "worker": {"version": "3.6.21", "minimum_compatible_version": "3.5.0",
                           "status": 200},
                "database_migration": {"status": "completed", "progress_in_percent": 100.0},
            })
            return
        if path == "/api/auth":
            if method != "POST":
                self._error(405, "Method not allowed.")
                return
            self._login(body)
            return
        match = TAG.match(path) or MODEL.match(path) or MODELS.match(path)
        if match is None:
            self._error(404, f"Requested URL {path} not found")
            return
        if not self._authenticated(query):
            self._error(401, "Authorization header not present or invalid token.")
            return
        if match["project"] not in self.fake.projects:
            self._error(404, f"Project '{match['project']}' does not exist.")
            return
        groups = match.groupdict()
        if "tag" in groups:
            self._tag(method, groups["name"], groups["tag"])
        elif "name" in groups:
            self._model(method, groups["name"])
        else:
            self._models(method, body)

    def _login(self, body: bytes) -> None:
        try:
            credentials = json.loads(body or b"null")
        except ValueError:
            credentials = None
        if (not isinstance(credentials, dict) or not isinstance(credentials.get("username"), str)
                or not isinstance(credentials.get("password"), str)):
            self._error(400, "Request body must be JSON with 'username' and 'password'.")
            return
        if self.fake.users.get(credentials["username"]) != credentials["password"]:
            if self.fake.echo_login:
                sent = body.decode("utf-8")
                self._send(401, {"message": f"Incorrect user or password in {sent}",
                                 "reason": f"NotAuthenticated: {quote_plus(sent)}"})
                return
            self._error(401, "Incorrect user or password.")
            return
        bearer = f"eyJ0eXAiOiJKV1Qi.{secrets.token_urlsafe(24)}.sig"
        self.fake.issued_bearers.add(bearer)
        self._send(200, {"access_token": bearer})

    def _models(self, method: str, body: bytes) -> None:
        if method == "GET":
            self._send(200, [
                {"model": name, "hash": hashlib.md5(stored.data).hexdigest(),
                 "trained_at": stored.trained_at, "version": "3.6.21",
                 "tags": sorted(stored.tags), "is_compatible": True}
                for name, stored in sorted(self.fake.models.items())
            ])
            return
        if method != "POST":
            self._error(405, "Method not allowed.")
            return
        content_type = self.headers.get("Content-Type") or ""
        if not content_type.startswith("multipart/form-data") or "boundary=" not in content_type:
            self._error(400, "Expected a multipart/form-data request with the model file.")
            return
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        parts = {part.get_param("name", header="content-disposition"): part
                 for part in message.iter_parts()} if message.is_multipart() else {}
        part = parts.get("model")
        if part is None:
            self._error(400, "No model file in the request: the form field must be named 'model'.")
            return
        filename = part.get_filename() or ""
        data = part.get_payload(decode=True) or b""
        if not filename.endswith(".tar.gz") or not data.startswith(b"\x1f\x8b"):
            self._error(400, "The model must be a .tar.gz archive.")
            return
        name = filename[: -len(".tar.gz")]
        if name in self.fake.models:
            self._error(409, "A model with that name already exists.")
            return
        self.fake.add_model(name, data)
        self._send(201, {"message": "Successfully uploaded."})

    def _model(self, method: str, name: str) -> None:
        stored = self.fake.models.get(name)
        if stored is None:
            self._error(404, f"Model '{name}' not found.")
            return
        if method == "GET":
            self._send(200, raw=stored.data, content_type="application/octet-stream")
        elif method == "DELETE":
            del self.fake.models[name]
            self._send(204)
        else:
            self._error(405, "Method not allowed.")

    def _tag(self, method: str, name: str, tag: str) -> None:
        if method != "PUT":
            self._error(405, "Method not allowed.")
            return
        if name not in self.fake.models:
            self._error(404, f"Model '{name}' not found.")
            return
        for stored in self.fake.models.values():
            stored.tags.discard(tag)  # a tag names one model at a time
        self.fake.models[name].tags.add(tag)
        self._send(204)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeRasaX) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


@contextmanager
def running_fake_rasax(fake: FakeRasaX) -> Iterator[FakeRasaX]:
    server = _Server(fake)
    host, port = server.server_address[:2]
    fake.base_url = f"http://{host}:{port}"
    # A short poll interval: shutdown() waits for it, and many tests start a server.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="fake-rasax", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.stop.set()  # release handlers that hang on purpose
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
