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
  ``?api_token=``. Everything we print goes through a ``Redactor`` (ci_toolkit.redaction)
  first, which knows the secrets of the service in every spelling.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ci_toolkit.errors import ToolkitError
from ci_toolkit.redaction import Redactor
from ci_toolkit.retry import Backoff, Clock, GaveUp, Sleep, Transient
from ci_toolkit.retry import retry as with_retries

if TYPE_CHECKING:
    import requests

Log = Callable[[str], None]


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
    backoff: Backoff = field(default_factory=Backoff)

    def timeouts(self, remaining_s: float) -> tuple[float, float]:
        """(connect, read) timeouts of one attempt, cut to what is left of the budget."""
        left = max(remaining_s, 0.1)
        return min(self.connect_timeout_s, left), min(self.read_timeout_s, left)


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
        secrets: Iterable[str | None] = (),
        retry: RetryPolicy | None = None,
        log: Log,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        time_option: str = "--http-timeout",
    ) -> None:
        self.session = session
        self.service = service
        self.redact = Redactor(secrets)
        self.retry = retry or RetryPolicy()
        self._log = log
        self.sleep = sleep
        self.clock = clock
        self.time_option = time_option

    def log(self, text: str) -> None:
        self._log(self.redact(text))

    def detail(self, response: requests.Response) -> str:
        """What an error answer says, redacted (see ``response_message``)."""
        return response_message(response, self.redact)

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
        policy = retry or self.retry
        shown = f"{method} {without_query(url)}"
        send = {"params": params, "headers": headers, "json": json, "stream": stream}
        started = self.clock()

        def attempt(_number: int) -> requests.Response:
            timeout = policy.timeouts(policy.total_s - (self.clock() - started))
            return self._send_once(method, url, what=what, timeout=timeout, files=files,
                                   send=send)

        def announce(number: int, failure: Transient, delay: float) -> None:
            self.log(f"{shown}: {failure.reason}; retrying in {delay:.1f} s (attempt {number})")

        try:
            response = with_retries(attempt, backoff=policy.backoff, total_s=policy.total_s,
                                    on_retry=announce, sleep=self.sleep, clock=self.clock)
        except GaveUp as gave_up:
            raise ToolkitError(
                f"{self.service}: {what} failed after {gave_up.attempts} attempt(s) in "
                f"{gave_up.elapsed_s:.0f} s: {self.redact(gave_up.last.reason)} ({shown}). Check "
                "that the service is running and reachable from this machine, or allow more "
                f"time ({self.time_option})."
            ) from None
        self.log(f"{shown} -> {response.status_code}")
        return response

    def _send_once(
        self,
        method: str,
        url: str,
        *,
        what: str,
        timeout: tuple[float, float],
        files: Callable[[], dict[str, Any]] | None,
        send: Mapping[str, Any],
    ) -> requests.Response:
        """One attempt: an answer below 500, or ``Transient`` for what another try may fix."""
        import requests

        opened = files() if files is not None else None
        try:
            response = self.session.request(method, url, files=opened, timeout=timeout, **send)
        except requests.Timeout:
            raise Transient(f"no answer within {timeout[1]:.3g} s") from None
        except requests.ConnectionError as error:
            raise Transient(f"connection failed ({_short_reason(error)})") from None
        except requests.RequestException as error:
            # Malformed URL and the like: retrying cannot help.
            raise ToolkitError(
                f"{self.service}: {what} failed: {self.redact(str(error))}. Check the URL option."
            ) from None
        finally:
            for handle in (opened or {}).values():
                _close_file_part(handle)
        if response.status_code < 500:
            return response
        problem = f"HTTP {response.status_code}: {self.detail(response)}"
        retry_after = _retry_after_s(response)
        response.close()
        raise Transient(problem, retry_after_s=retry_after)


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
