"""A local HTTP server that plays the GitHub REST endpoints of the sticky PR comment.

It answers the way api.github.com does (status codes, JSON shapes, pagination by Link
header, 401/403/404/422 bodies) and refuses what GitHub would refuse: no or wrong
Authorization, no User-Agent, bodies that are not JSON objects with a string ``body``.
Every request is recorded so tests can assert on paths, methods, headers and bodies.
``raw_answers`` makes it answer as something that is not the API would (HTML_PAGE: a
GITHUB_API_URL that points at the web site, a proxy's login page). ``read_only`` tokens are
those of a pull request from a fork: they read, and every write answers 403 as GitHub does.

Endpoints (under an optional prefix such as GHES's ``/api/v3``):
  GET   /user
  GET   /repos/{owner}/{repo}
  GET   /repos/{owner}/{repo}/issues/{number}
  GET   /repos/{owner}/{repo}/issues/{number}/comments     (?per_page=&page=)
  POST  /repos/{owner}/{repo}/issues/{number}/comments
  PATCH /repos/{owner}/{repo}/issues/comments/{id}
  GET   /repos/{owner}/{repo}/actions/artifacts               (?name=&per_page=&page=)
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DOCS = "https://docs.github.com/rest"
# What github.com (not api.github.com), a captive portal or a proxy answers: a web page.
HTML_PAGE = ("<!DOCTYPE html>\n<html lang=\"en\"><head><title>GitHub</title></head>"
             "<body><h1>Sign in to GitHub</h1></body></html>\n")
BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}


@dataclass
class Recorded:
    method: str
    path: str  # without the prefix and the query
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any  # parsed JSON, or the raw text when it was not JSON, or None
    status: int = 0


@dataclass
class FakeGitHub:
    """State of the fake: repositories, pull requests, comments, tokens and injected faults."""

    repository: str = "octo-org/coffee-assistant"
    pull_requests: tuple[int, ...] = (7,)
    # token -> the user it authenticates; None means an App/Actions installation token,
    # which cannot read /user and posts as github-actions[bot].
    tokens: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> comment
    # Tokens of pull requests from forks: reads work, writes answer 403.
    read_only: set[str] = field(default_factory=set)
    repository_id: int = 1296269
    artifacts: list[dict[str, Any]] = field(default_factory=list)  # newest first
    # (method, path regex) -> (status, message): answer this instead of doing the work.
    faults: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    # (method, path regex) -> (status, content type, body): answer these bytes as they are,
    # before any authentication, as a wrong GITHUB_API_URL or a proxy would (HTML_PAGE).
    raw_answers: dict[tuple[str, str], tuple[int, str, str]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    prefix: str = ""
    base_url: str = ""
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1_900_000_001))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_comment(self, number: int, body: str, author: dict[str, Any]) -> dict[str, Any]:
        comment_id = next(self._ids)
        api = f"{self.base_url}/repos/{self.repository}"
        comment = {
            "id": comment_id,
            "node_id": f"IC_kwDO{comment_id}",
            "url": f"{api}/issues/comments/{comment_id}",
            "html_url": f"https://github.com/{self.repository}/pull/{number}#issuecomment-{comment_id}",
            "issue_url": f"{api}/issues/{number}",
            "body": body,
            "user": {**author, "node_id": f"U_{author['id']}",
                     "url": f"{self.base_url}/users/{author['login']}",
                     "site_admin": False},
            "created_at": "2026-11-22T10:00:00Z",
            "updated_at": "2026-11-22T10:00:00Z",
            "author_association": "CONTRIBUTOR" if author.get("type") == "Bot" else "MEMBER",
            "_issue": number,
        }
        self.comments[comment_id] = comment
        return comment

    def add_artifact(self, name: str, run_id: int, head_branch: str, head_sha: str, *,
                     head_repository_id: int | None = None,
                     expired: bool = False) -> dict[str, Any]:
        """An artifact uploaded by workflow run ``run_id``; ``head_repository_id`` differs
        from the repository's own id for a run of a pull request from a fork."""
        artifact_id = next(self._ids)
        api = f"{self.base_url}/repos/{self.repository}/actions/artifacts/{artifact_id}"
        artifact = {
            "id": artifact_id, "node_id": f"MDg6QXJ0aWZhY3Q{artifact_id}", "name": name,
            "size_in_bytes": 1024, "url": api, "archive_download_url": f"{api}/zip",
            "expired": expired, "digest": "sha256:" + "0" * 64,
            "created_at": "2026-11-22T09:00:00Z", "updated_at": "2026-11-22T09:00:00Z",
            "expires_at": "2027-02-20T09:00:00Z",
            "workflow_run": {"id": run_id, "repository_id": self.repository_id,
                             "head_repository_id": head_repository_id or self.repository_id,
                             "head_branch": head_branch, "head_sha": head_sha},
        }
        self.artifacts.insert(0, artifact)  # GitHub lists the newest first
        return artifact

    def calls(self, method: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if method is None or r.method == method]


def _public(comment: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in comment.items() if not key.startswith("_")}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    # -- plumbing -------------------------------------------------------------------
    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
        self.send_header("X-RateLimit-Limit", "5000")
        self.send_header("X-RateLimit-Remaining", "4999")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self._recorded.status = status

    def _raw_answer(self, method: str, path: str) -> bool:
        """Answer with one of FakeGitHub.raw_answers, before any authentication."""
        for (raw_method, pattern), answer in self.server.fake.raw_answers.items():
            if raw_method == method and re.fullmatch(pattern, path):
                self._send_raw(*answer)
                return True
        return False

    def _send_raw(self, status: int, content_type: str, text: str) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self._recorded.status = status

    def _error(self, status: int, message: str, **extra: Any) -> None:
        self._send(status, {"message": message, "documentation_url": DOCS, "status": str(status),
                            **extra})

    def _handle(self, method: str) -> None:
        fake = self.server.fake
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        try:
            body: Any = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw
        path = url.path
        if fake.prefix and path.startswith(fake.prefix):
            path = path[len(fake.prefix):]
        self._recorded = Recorded(method, path, parse_qs(url.query), dict(self.headers.items()),
                                  body)
        with fake.lock:
            fake.requests.append(self._recorded)
            if not self._raw_answer(method, path):
                self._route(method, path, body, raw)

    do_GET = lambda self: self._handle("GET")  # noqa: E731
    do_POST = lambda self: self._handle("POST")  # noqa: E731
    do_PATCH = lambda self: self._handle("PATCH")  # noqa: E731
    do_DELETE = lambda self: self._handle("DELETE")  # noqa: E731
    do_PUT = lambda self: self._handle("PUT")  # noqa: E731

    # -- behaviour ----------------------------------------------------------------------
    def _token(self) -> str:
        header = self.headers.get("Authorization") or ""
        match = re.fullmatch(r"(?:token|Bearer) (\S+)", header)
        return match.group(1) if match else ""

    def _caller(self) -> tuple[bool, dict[str, Any] | None]:
        """(authenticated, user); user None for an installation token."""
        token = self._token()
        if token not in self.server.fake.tokens:
            return False, None
        return True, self.server.fake.tokens[token]

    def _route(self, method: str, path: str, body: Any, raw: str) -> None:
        fake = self.server.fake
        if not self.headers.get("User-Agent"):
            # GitHub refuses requests without a User-Agent.
            return self._error(403, "Request forbidden by administrative rules. Please make sure "
                                    "your request has a User-Agent header.")
        authenticated, user = self._caller()
        if not authenticated:
            return self._error(401, "Bad credentials")
        for (fault_method, pattern), (status, message) in fake.faults.items():
            if fault_method == method and re.fullmatch(pattern, path):
                return self._error(status, message)
        if method != "GET" and self._token() in fake.read_only:
            return self._error(403, "Resource not accessible by integration")
        repo = re.escape(fake.repository)
        if method == "GET" and path == "/user":
            if user is None:
                return self._error(403, "Resource not accessible by integration")
            return self._send(200, {**user, "node_id": f"U_{user['id']}", "site_admin": False})
        if method == "GET" and path == f"/repos/{fake.repository}":
            owner, name = fake.repository.split("/")
            return self._send(200, {"id": 1296269, "name": name, "full_name": fake.repository,
                                    "owner": {"login": owner, "id": 1, "type": "Organization"},
                                    "private": False,
                                    "url": f"{fake.base_url}/repos/{fake.repository}",
                                    "html_url": f"https://github.com/{fake.repository}"})
        if match := re.fullmatch(rf"/repos/{repo}/issues/(\d+)", path):
            return self._issue(int(match.group(1)), method)
        if method == "GET" and path == f"/repos/{fake.repository}/actions/artifacts":
            return self._list_artifacts()
        if match := re.fullmatch(rf"/repos/{repo}/issues/(\d+)/comments", path):
            number = int(match.group(1))
            if number not in fake.pull_requests:
                return self._error(404, "Not Found")
            if method == "GET":
                return self._list_comments(number)
            if method == "POST":
                if not self._valid_body(body):
                    return None
                author = user or BOT
                comment = fake.add_comment(number, body["body"], author)
                return self._send(201, _public(comment),
                                  {"Location": comment["url"]})
        if match := re.fullmatch(rf"/repos/{repo}/issues/comments/(\d+)", path):
            comment = fake.comments.get(int(match.group(1)))
            if comment is None:
                return self._error(404, "Not Found")
            if method == "GET":
                return self._send(200, _public(comment))
            if method == "PATCH":
                if not self._valid_body(body):
                    return None
                author = user or BOT
                if comment["user"]["login"] != author["login"]:
                    # Our fake is strict: only the author edits (the toolkit must never try).
                    return self._error(403, "You do not have permission to edit this comment")
                comment["body"] = body["body"]
                comment["updated_at"] = "2026-11-22T11:00:00Z"
                return self._send(200, _public(comment))
        return self._error(404, "Not Found")

    def _valid_body(self, body: Any) -> bool:
        if self.headers.get_content_type() != "application/json":
            self._error(415, "Unsupported 'Content-Type' header")
            return False
        if not isinstance(body, dict) or not isinstance(body.get("body"), str):
            self._error(422, "Invalid request.\n\n\"body\" wasn't supplied.")
            return False
        if set(body) - {"body"}:
            self._error(422, f"Invalid request.\n\nUnknown keys: {sorted(set(body) - {'body'})}")
            return False
        if len(body["body"]) > 65536:
            self._error(422, "Validation Failed", errors=[{
                "resource": "IssueComment", "code": "custom", "field": "body",
                "message": "body is too long (maximum is 65536 characters)"}])
            return False
        return True

    def _issue(self, number: int, method: str) -> None:
        fake = self.server.fake
        if method != "GET" or number not in fake.pull_requests:
            return self._error(404, "Not Found")
        api = f"{fake.base_url}/repos/{fake.repository}"
        return self._send(200, {
            "id": 1000 + number, "number": number, "state": "open", "title": "Improve the menu",
            "url": f"{api}/issues/{number}", "comments_url": f"{api}/issues/{number}/comments",
            "html_url": f"https://github.com/{fake.repository}/pull/{number}",
            "pull_request": {"url": f"{api}/pulls/{number}"},
            "user": {"login": "alice", "id": 2, "type": "User"},
        })

    def _list_artifacts(self) -> None:
        fake = self.server.fake
        query = parse_qs(urlsplit(self.path).query)
        name = query.get("name", [None])[0]
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        page = int(query.get("page", ["1"])[0])
        matching = [a for a in fake.artifacts if name is None or a["name"] == name]
        return self._send(200, {"total_count": len(matching),
                                "artifacts": matching[(page - 1) * per_page: page * per_page]})

    def _list_comments(self, number: int) -> None:
        fake = self.server.fake
        query = parse_qs(urlsplit(self.path).query)
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        page = int(query.get("page", ["1"])[0])
        comments = [_public(c) for c in fake.comments.values() if c["_issue"] == number]
        last = max(1, -(-len(comments) // per_page))
        chunk = comments[(page - 1) * per_page: page * per_page]
        base = (f"{fake.base_url}/repos/{fake.repository}/issues/{number}/comments"
                f"?per_page={per_page}")
        links = []
        if page < last:
            links.append(f'<{base}&page={page + 1}>; rel="next"')
            links.append(f'<{base}&page={last}>; rel="last"')
        if page > 1:
            links.append(f'<{base}&page=1>; rel="first"')
            links.append(f'<{base}&page={page - 1}>; rel="prev"')
        return self._send(200, chunk, {"Link": ", ".join(links)} if links else None)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeGitHub


@contextmanager
def running_fake_github(fake: FakeGitHub) -> Iterator[FakeGitHub]:
    """Serve ``fake`` on 127.0.0.1 (a free port) while the block runs; stop it after."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = fake
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}{fake.prefix}"
    thread = threading.Thread(target=server.serve_forever, name="fake-github", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
