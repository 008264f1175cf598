"""Log in to a registry and push the action-server image, with bounded retries.

Credentials come from the environment (read by the command) and go to the engine through
the docker SDK only: in memory for the login, and as ``auth_config`` for each push. Nothing is
written to the docker client's config file, and the password is redacted from any message
(in every spelling: ci_toolkit.redaction). Transient failures are retried by ci_toolkit.retry.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.gha import ActionsRuntime
from ci_toolkit.image.build import LABEL, one_line
from ci_toolkit.image.names import ImageNames
from ci_toolkit.image.request import PASSWORD_VARS, USERNAME_VARS
from ci_toolkit.proc import Console
from ci_toolkit.redaction import Redactor
from ci_toolkit.retry import Backoff, GaveUp, Transient, retry

if TYPE_CHECKING:
    from docker.client import DockerClient

_DOCKER_HUB = ("docker.io", "index.docker.io", "registry-1.docker.io")
# Errors worth another push attempt: the network or the registry had a bad moment.
_TRANSIENT = re.compile(
    r"connection refused|connection reset|broken pipe|i/o timeout|timed? ?out|timeout|"
    r"\bEOF\b|TLS handshake|no such host|temporary failure|too many requests|\b429\b|"
    r"\b50[0234]\b|internal server error|bad gateway|service unavailable",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RegistryCredentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never print the password, even in a debugger or a traceback
        return f"RegistryCredentials(username={self.username!r}, password='***')"

    def redact(self, text: str) -> str:
        return Redactor([self.password])(text)


def credentials_from_env(environ: Mapping[str, str], actions: ActionsRuntime,
                         ) -> RegistryCredentials | None:
    """Registry login from the environment only: never options, so never in argv."""

    def first(names: Sequence[str]) -> str:
        return next((environ[n] for n in names if environ.get(n)), "")

    username, password = first(USERNAME_VARS), first(PASSWORD_VARS)
    actions.add_mask(password)
    if not username and not password:
        return None
    if not username or not password:
        missing = USERNAME_VARS[0] if not username else PASSWORD_VARS[0]
        raise UsageError(
            f"Registry login needs both a user name and a password, but {missing} is empty. "
            f"Set both (or neither, to push with the engine's existing login)."
        )
    return RegistryCredentials(username=username, password=password)


def login_server(registry: str) -> str | None:
    # The engine knows Docker Hub by its index URL; None means exactly that.
    return None if registry in _DOCKER_HUB else registry


def login(client: DockerClient, registry: str, credentials: RegistryCredentials) -> None:
    """Log the engine in to the registry; a failure stops the run.

    The SDK keeps the credentials in memory: nothing is written to ~/.docker/config.json.
    """
    from docker.errors import APIError

    try:
        client.api.login(
            username=credentials.username,
            password=credentials.password,
            registry=login_server(registry),
            reauth=True,
        )
    except APIError as error:
        raise login_failure(registry, credentials,
                            str(error.explanation or error)) from error


def login_failure(registry: str, credentials: RegistryCredentials,
                  explanation: str) -> ToolkitError:
    """Say whether the registry was unreachable or refused the credentials."""
    reason = one_line(credentials.redact(explanation)).rstrip(".")
    if _TRANSIENT.search(reason) and not re.search(r"\b401\b|unauthorized", reason, re.I):
        return ToolkitError(
            f"Could not reach the registry {registry} to log in: {reason}. Check that "
            "the registry address is right and that it is up."
        )
    return ToolkitError(
        f"Login to the registry {registry} as '{credentials.username}' failed: {reason}. "
        "Check CI_TOOLKIT_REGISTRY_USERNAME and CI_TOOLKIT_REGISTRY_PASSWORD (a token "
        "that may push to this repository)."
    )


class PushError(ToolkitError):
    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def read_push_stream(chunks: Iterable[Mapping[str, Any]], *, console: Console,
                     redact: Callable[[str], str]) -> str:
    """Show a push's progress (one line per layer event) and return the digest it reports."""
    started = time.monotonic()
    digest = ""
    for chunk in chunks:
        error = chunk.get("error") or (chunk.get("errorDetail") or {}).get("message")
        if error:
            reason = redact(str(error))
            raise PushError(reason, transient=bool(_TRANSIENT.search(reason)))
        aux = chunk.get("aux")
        if isinstance(aux, Mapping) and aux.get("Digest"):
            digest = str(aux["Digest"])
        status = str(chunk.get("status") or "")
        # Skip the byte-counting progress lines.
        if status and not chunk.get("progressDetail"):
            console.child_line(LABEL, started, " ".join(
                part for part in (str(chunk.get("id") or ""), status) if part))
    return digest


def _push_once(
    client: DockerClient,
    repository: str,
    tag: str,
    *,
    auth_config: dict[str, str] | None,
    console: Console,
    redact: Callable[[str], str],
) -> str:
    from docker.errors import APIError

    try:
        stream = client.api.push(repository, tag=tag, stream=True, decode=True,
                                 auth_config=auth_config)
        try:
            digest = read_push_stream(stream, console=console, redact=redact)
        finally:
            # Read to its end (the engine ends the stream after an error line): a response
            # left half-read keeps its socket open until the garbage collector finds it.
            for _ in stream:
                pass
    except APIError as error:
        reason = redact(str(error.explanation or error))
        if "does not exist locally" in reason or "No such image" in reason:
            raise ToolkitError(
                f"There is no local image {repository}:{tag} to push. Build it first with "
                "`ci-toolkit image build` (or pass --push to it)."
            ) from error
        raise PushError(reason, transient=bool(_TRANSIENT.search(reason))) from error
    if not digest:
        raise PushError(f"the engine reported no digest for {repository}:{tag}", transient=True)
    return digest


def push_image(
    client: DockerClient,
    names: ImageNames,
    *,
    credentials: RegistryCredentials | None,
    console: Console,
    attempts: int = 3,
    backoff_s: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Push every tag, retrying transient failures; returns the manifest digest."""
    if attempts < 1:
        raise UsageError("--push-attempts must be at least 1.")
    auth_config = (
        {"username": credentials.username, "password": credentials.password}
        if credentials else None
    )
    redact = Redactor([credentials.password] if credentials else [])
    backoff = Backoff(first_s=backoff_s, max_s=math.inf)  # bounded by attempts, not time

    def push_tag(tag: str) -> str:
        def attempt(number: int) -> str:
            try:
                return _push_once(client, names.repository, tag, auth_config=auth_config,
                                  console=console, redact=redact)
            except PushError as error:
                if not error.transient:
                    raise _push_failure(names, tag, error, number, credentials) from error
                raise Transient(error.message) from error

        def report(number: int, failure: Transient, wait: float) -> None:
            console.line(f"[{LABEL}] push of {names.repository}:{tag} failed "
                         f"({failure.reason}); attempt {number + 1}/{attempts} in {wait:g} s")

        try:
            return retry(attempt, backoff=backoff, attempts=attempts, on_retry=report,
                         sleep=sleep)
        except GaveUp as gave_up:
            error = PushError(gave_up.last.reason, transient=True)
            raise _push_failure(names, tag, error, gave_up.attempts, credentials) from gave_up

    # All tags name the same image, so the registry reports one digest.
    return sorted({push_tag(tag) for tag in names.tags})[0]


def _push_failure(names: ImageNames, tag: str, error: PushError, attempts: int,
                  credentials: RegistryCredentials | None) -> ToolkitError:
    reference = f"{names.repository}:{tag}"
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    message = one_line(error.message).rstrip(".")
    if re.search(r"unauthorized|authentication required|no basic auth credentials|denied|"
                 r"\b40[13]\b", message, re.I):
        login_hint = (
            "The credentials in CI_TOOLKIT_REGISTRY_USERNAME / CI_TOOLKIT_REGISTRY_PASSWORD "
            "may not push to this repository." if credentials else
            "Set CI_TOOLKIT_REGISTRY_USERNAME and CI_TOOLKIT_REGISTRY_PASSWORD to log in."
        )
        return ToolkitError(f"The registry refused the push of {reference}: {message}. "
                            f"{login_hint}")
    if error.transient:
        return ToolkitError(
            f"Could not push {reference}{tries}: {message}. Check that the registry "
            f"{names.registry} is up and reachable from the Docker engine."
        )
    return ToolkitError(f"The push of {reference} failed: {message}.")
