"""HTTP calls to deployment targets: bounded retries, and secrets kept out of every message.

Rasa X, the Rasa server and the smoke test all talk HTTP through one ``requests.Session``
that the command builds. Each call here:

- retries connection errors, timeouts and 5xx answers with exponential backoff, but never
  longer than ``RetryPolicy.total_s`` in all (each attempt's read timeout is cut to what is
  left of that budget), so a dead server fails the step in bounded time;
- returns every answer below 500 to the caller, which knows what a 401, 404 or 409 means
  for its endpoint;
- never waits past its budget, even for a server that trickles its answer a byte at a time
  (requests' timeouts bound each socket read, not the whole answer);
- reads JSON only through ``HttpCaller.json``: an HTML page from a proxy or a login page in
  front of the service, or garbage, is an error that names the service, the endpoint and
  the first bytes that came back, never a traceback;
- never lets a token reach a log line or an error: requests puts the full URL, query
  string included, into its exception messages, and Rasa passes tokens as ``?token=`` and
  ``?api_token=``. Everything we print goes through a ``Redactor`` (ci_toolkit.redaction)
  first, which knows the secrets of the service in every spelling.
"""

from __future__ import annotations

import re
import threading
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
# How much of an unexpected answer an error message quotes.
PREVIEW_CHARS = 160


class NoAnswer(ToolkitError):
    """No usable answer within the time budget. The request may still have reached the
    server and done its work (a model switch, a tag), so a caller must not assume it did not."""


def without_query(url: str) -> str:
    """The URL as it may be shown: no query string, no user:password@."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
    except ValueError:
        # A malformed URL (``http://[::1``) is still shown, without query or user info.
        head = re.split(r"[?#]", url, maxsplit=1)[0]
        return re.sub(r"(?<=://)[^/]*@", "", head)
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


def _parsed_json(response: requests.Response) -> tuple[bool, Any]:
    """(True, body) for a JSON answer, (False, None) for anything else."""
    try:
        return True, response.json()
    except (ValueError, RecursionError):  # garbage, bad UTF-8, or JSON nested to death
        return False, None


def preview(response: requests.Response, redact: Redactor, limit: int = PREVIEW_CHARS) -> str:
    """The first characters of an answer, quoted, on one line, with every secret removed.

    Redacted before it is cut, so that a secret at the cut is not left half visible."""
    raw = (response.content or b"")[: limit * 8]
    text = " ".join(raw.decode("utf-8", errors="replace").split())
    text = "".join(char if char.isprintable() else "?" for char in redact(text))
    return '"' + (text[:limit] + "..." if len(text) > limit else text) + '"'


def body_kind(response: requests.Response) -> str:
    """What an answer that is not JSON looks like, for a message."""
    content = (response.content or b"").lstrip()
    if not content:
        return "an empty body"
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    if "html" in content_type or content[:1] == b"<":
        return "an HTML page"
    return f"{content_type or 'untyped'} data"


def response_message(response: requests.Response, redact: Redactor) -> str:
    """The useful part of an error answer: Rasa's ``message`` (and ``reason``), or what the
    body is and its first characters."""
    parsed, body = _parsed_json(response)
    if parsed and isinstance(body, Mapping):
        parts = [str(body[key]) for key in ("message", "reason") if body.get(key)]
        if parts:
            text = " ".join(" ".join(parts).split())
            return redact(text)[:PREVIEW_CHARS * 2]
    if not (response.content or b"").strip():
        return f"HTTP {response.status_code} {response.reason or ''}".strip()
    kind = "JSON" if parsed else body_kind(response)
    return f"{kind}: {preview(response, redact)}"


def endpoint(response: requests.Response) -> str:
    """Method and URL (no query, no credentials) of the request an answer belongs to, and
    where a redirect took it: a login page behind a proxy shows up here."""
    first = response.history[0] if response.history else response
    request = getattr(first, "request", None)
    method = getattr(request, "method", None) or ""
    url = getattr(request, "url", None) or first.url or ""
    shown = f"{method} {without_query(url)}".strip()
    if response.history and response.url:
        shown += f", redirected to {without_query(response.url)}"
    return shown


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
        url_option: str = "the URL option",
        server: str = "",
    ) -> None:
        self.session = session
        self.service = service
        self.redact = Redactor(secrets)
        self.retry = retry or RetryPolicy()
        self._log = log
        self.sleep = sleep
        self.clock = clock
        self.time_option = time_option
        self.url_option = url_option
        self.server = server or service

    def log(self, text: str) -> None:
        self._log(self.redact(text))

    def detail(self, response: requests.Response) -> str:
        """What an error answer says, redacted (see ``response_message``)."""
        return response_message(response, self.redact)

    def url_hint(self) -> str:
        return (f"Check that {self.url_option} is the base URL of {self.server} itself, not of "
                "a proxy or login page in front of it.")

    def json(self, response: requests.Response, *, what: str,
             shape: type | tuple[type, ...] = (dict, list), described: str = "JSON") -> Any:
        """The JSON body of an answer, of the expected ``shape``. Anything else (an HTML
        page, garbage, JSON of another shape) is an error naming the service, the endpoint
        and the first characters that came back."""
        parsed, body = _parsed_json(response)
        if parsed and isinstance(body, shape):
            return body
        got = f"JSON that is not {described}" if parsed else f"{body_kind(response)}, not JSON"
        raise ToolkitError(
            f"{self.service}: {what} ({self.redact(endpoint(response))}) answered HTTP "
            f"{response.status_code} with {got}: {preview(response, self.redact)}. "
            f"{self.url_hint()}")

    def unexpected(self, response: requests.Response, *, what: str, expected: str
                   ) -> ToolkitError:
        """An answer whose status this endpoint does not give: often a proxy's page."""
        return ToolkitError(
            f"{self.service}: {what} ({self.redact(endpoint(response))}) answered HTTP "
            f"{response.status_code}, expected {expected}: {self.detail(response)}. "
            f"{self.url_hint()}")

    def is_page(self, response: requests.Response) -> bool:
        """True when a success answer carries a body that is not JSON (a proxy's page),
        where the endpoint sends JSON or nothing."""
        return bool((response.content or b"").strip()) and not _parsed_json(response)[0]

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
            remaining = policy.total_s - (self.clock() - started)
            return self._send_once(method, url, what=what, timeout=policy.timeouts(remaining),
                                   limit_s=max(remaining, 0.1), files=files, send=send)

        def announce(number: int, failure: Transient, delay: float) -> None:
            self.log(f"{shown}: {failure.reason}; retrying in {delay:.1f} s (attempt {number})")

        try:
            response = with_retries(attempt, backoff=policy.backoff, total_s=policy.total_s,
                                    on_retry=announce, sleep=self.sleep, clock=self.clock)
        except GaveUp as gave_up:
            raise NoAnswer(
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
        limit_s: float,
        files: Callable[[], dict[str, Any]] | None,
        send: Mapping[str, Any],
    ) -> requests.Response:
        """One attempt: an answer below 500, or ``Transient`` for what another try may fix.
        ``timeout`` bounds each socket operation; ``limit_s``, what is left of the budget,
        the whole attempt (a large upload may take long, a trickled answer may not)."""
        import requests

        opened = files() if files is not None else None
        try:
            response = _bounded(
                lambda: self.session.request(method, url, files=opened, timeout=timeout, **send),
                limit_s=limit_s)
        except requests.Timeout:
            raise Transient(f"no answer within {timeout[1]:.3g} s") from None
        except requests.ConnectionError as error:
            raise Transient(f"connection failed ({_short_reason(error)})") from None
        except (requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as error:
            raise Transient(f"the answer broke off ({_short_reason(error)})") from None
        except requests.RequestException as error:
            # Malformed URL and the like: retrying cannot help.
            raise ToolkitError(
                f"{self.service}: {what} failed: {self.redact(str(error))}. Check "
                f"{self.url_option}."
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


def _bounded(call: Callable[[], requests.Response], *, limit_s: float) -> requests.Response:
    """``call()`` on a worker thread, waited for at most ``limit_s``.

    requests' timeouts bound each socket read, so a server that trickles its answer could
    hold a call forever; this bounds the whole answer. A call given up on is left to its
    own timeouts on its (daemon) thread; its answer is closed when it comes."""
    outcome: dict[str, Any] = {}
    abandoned = threading.Event()

    def run() -> None:
        try:
            outcome["response"] = call()
        except BaseException as error:  # handed over to the waiting thread
            outcome["error"] = error
        if abandoned.is_set() and "response" in outcome:
            outcome["response"].close()

    worker = threading.Thread(target=run, name="ci-toolkit-http", daemon=True)
    worker.start()
    worker.join(limit_s)
    if worker.is_alive():
        abandoned.set()
        raise Transient(f"no complete answer within {limit_s:.3g} s")
    if "error" in outcome:
        raise outcome["error"]
    response: requests.Response = outcome["response"]
    return response


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
