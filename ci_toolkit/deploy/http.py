"""HTTP calls to deployment targets: bounded retries, and secrets kept out of every message.

Rasa X, the Rasa server and the smoke test all talk HTTP through one ``requests.Session``
that the command builds. Each call here:

- retries connection errors, timeouts and 5xx answers with exponential backoff, but never
  longer than ``RetryPolicy.total_s`` in all (each attempt's read timeout is cut to what is
  left of that budget), so a dead server fails the step in bounded time;
- returns every answer below 500 to the caller, which knows what a 401, 404 or 409 means
  for its endpoint;
- never lets a token reach a log line or an error: requests puts the full URL, query
  string included, into its exception messages, and Rasa passes tokens as ``?token=`` and
  ``?api_token=``. Everything we print goes through a ``Redactor`` first.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ci_toolkit.errors import ToolkitError

if TYPE_CHECKING:
    import requests

# Query parameters that carry credentials in the Rasa APIs (and a few common others).
_SECRET_QUERY = re.compile(
    r"(?i)\b((?:api_)?token|access_token|password|secret|key)=([^&\s'\"#)]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
REDACTED = "***"

Log = Callable[[str], None]


class Redactor:
    """Removes known secrets, and anything that looks like a credential, from text."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        # Very short values would blank out ordinary words; they are not real tokens anyway.
        if secret and len(secret) >= 4 and secret not in self._secrets:
            self._secrets.append(secret)
            self._secrets.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        text = _SECRET_QUERY.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
        return _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


def without_query(url: str) -> str:
    """The URL as it may be shown: no query string, no user:password@."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def join_url(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + "/" + path.lstrip("/")


@dataclass(frozen=True)
class RetryPolicy:
    """How long one logical call may take, retries included."""

    total_s: float = 120.0
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0
    first_backoff_s: float = 1.0
    max_backoff_s: float = 15.0

    def backoffs(self) -> Iterable[float]:
        delay = self.first_backoff_s
        while True:
            yield delay
            delay = min(delay * 2, self.max_backoff_s)


def response_message(response: requests.Response, redact: Redactor, limit: int = 300) -> str:
    """The useful part of an error answer: Rasa's ``message`` (and ``reason``) or the text."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        parts = [str(body[key]) for key in ("message", "reason") if body.get(key)]
        if parts:
            return redact(" ".join(parts))[:limit]
    text = (response.text or "").strip().replace("\n", " ")
    return redact(text)[:limit] or f"HTTP {response.status_code} {response.reason or ''}".strip()


class HttpCaller:
    """Makes requests to one service with bounded retries and redacted messages."""

    def __init__(
        self,
        session: requests.Session,
        *,
        service: str,
        redact: Redactor,
        retry: RetryPolicy,
        log: Log,
        sleep: Callable[[float], None] = time.sleep,
        time_option: str = "--http-timeout",
    ) -> None:
        self.session = session
        self.service = service
        self.redact = redact
        self.retry = retry
        self._log = log
        self._sleep = sleep
        self.time_option = time_option

    def log(self, text: str) -> None:
        self._log(self.redact(text))

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        files: Callable[[], dict[str, Any]] | None = None,
        stream: bool = False,
        retry: RetryPolicy | None = None,
    ) -> requests.Response:
        """Send until an answer below 500 arrives or the time budget is spent.

        ``files`` is a factory so that every attempt gets freshly opened file objects
        (a retried multipart upload must start from the first byte again).
        """
        import requests

        policy = retry or self.retry
        started = time.monotonic()
        backoffs = iter(policy.backoffs())
        shown = f"{method} {without_query(url)}"
        attempt = 0
        while True:
            attempt += 1
            remaining = policy.total_s - (time.monotonic() - started)
            timeout = (min(policy.connect_timeout_s, max(remaining, 0.1)),
                       min(policy.read_timeout_s, max(remaining, 0.1)))
            opened = files() if files is not None else None
            problem: str
            retry_after = 0.0
            try:
                response = self.session.request(
                    method, url, params=params, headers=headers, json=json, files=opened,
                    timeout=timeout, stream=stream,
                )
            except requests.Timeout:
                problem = f"no answer within {timeout[1]:.3g} s"
            except requests.ConnectionError as error:
                problem = f"connection failed ({_short_reason(error)})"
            except requests.RequestException as error:
                # Malformed URL and the like: retrying cannot help.
                raise ToolkitError(
                    f"{self.service}: {what} failed: {self.redact(str(error))}. "
                    "Check the URL option."
                ) from None
            else:
                if response.status_code < 500:
                    self.log(f"{shown} -> {response.status_code}")
                    return response
                problem = f"HTTP {response.status_code}: {response_message(response, self.redact)}"
                retry_after = _retry_after_s(response)
                response.close()
            finally:
                for handle in (opened or {}).values():
                    _close_file_part(handle)

            delay = max(next(backoffs), min(retry_after, policy.max_backoff_s))
            elapsed = time.monotonic() - started
            if elapsed + delay >= policy.total_s:
                raise ToolkitError(
                    f"{self.service}: {what} failed after {attempt} attempt(s) in "
                    f"{elapsed:.0f} s: {self.redact(problem)} ({shown}). Check that the "
                    f"service is running and reachable from this machine, or allow more time "
                    f"({self.time_option})."
                )
            self.log(f"{shown}: {problem}; retrying in {delay:.1f} s (attempt {attempt})")
            self._sleep(delay)


def _short_reason(error: Exception) -> str:
    # requests wraps urllib3 wraps socket errors; the innermost text names the cause
    # ("Connection refused", "Name or service not known"). The URL part is dropped here
    # and the rest is redacted by the caller anyway.
    text = str(error)
    match = re.search(r"\]\s*([^\]'\")]+)", text)
    if match:
        return match.group(1).strip().rstrip(")").strip()
    return type(error).__name__


def _retry_after_s(response: requests.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(float(value), 0.0)
    except ValueError:
        return 0.0


def _close_file_part(part: Any) -> None:
    # requests accepts (filename, fileobj[, content_type]) tuples or bare file objects.
    handle = part[1] if isinstance(part, tuple) and len(part) > 1 else part
    close = getattr(handle, "close", None)
    if callable(close):
        close()
