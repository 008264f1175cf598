"""The action server under test: started from the project's ``actions`` package with the
interpreter that has rasa-sdk, or one already running (``--url``), and a client for it.

A local server runs as ``python -m rasa_sdk --actions actions --port P`` in the project
directory, on 127.0.0.1 and a free port (with ``--grpc``: rasa-sdk's gRPC server, which
listens on every interface of the free port, and the TLS files when given), in a process
group of its own (so a Ctrl-C stops it with ci-toolkit, ci_toolkit/interrupts.py); its
output goes to a log file, which is redacted once the server has stopped.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ci_toolkit import interrupts
from ci_toolkit.actions.grpc_client import GrpcClient
from ci_toolkit.actions.protocol import encode
from ci_toolkit.actions.results import Answer
from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.gha import without_secrets
from ci_toolkit.image.container_check import free_port, last_error_line
from ci_toolkit.proc import environment_redactor
from ci_toolkit.retry import poll

if TYPE_CHECKING:
    import requests

    from ci_toolkit.actions.tls import TlsFiles

# Printed as one JSON line by the interpreter under test: what it has installed.
_PROBE = (
    "import json, importlib.metadata as m, importlib.util as u\n"
    "def version(name):\n"
    "    try:\n"
    "        return m.version(name)\n"
    "    except m.PackageNotFoundError:\n"
    "        return None\n"
    "print(json.dumps({'rasa_sdk': version('rasa-sdk'),"
    " 'pytest': u.find_spec('pytest') is not None}))\n"
)


@dataclass(frozen=True)
class SdkEnvironment:
    python: str
    sdk_version: str | None
    has_pytest: bool


def probe_environment(python: str) -> SdkEnvironment:
    """Which rasa-sdk (and whether pytest) the interpreter has; no rasa-sdk is a UsageError."""
    try:
        done = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True,
                              timeout=60, env=without_secrets(os.environ))
    except (OSError, subprocess.TimeoutExpired) as error:
        raise UsageError(f"Could not run the action server's Python {python}: {error}. Point "
                         "--python (CI_TOOLKIT_ACTIONS_PYTHON) at the interpreter of the "
                         "environment that has rasa-sdk installed.") from None
    try:
        found = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise UsageError(f"{python} is not a Python 3 interpreter that ci-toolkit can use "
                         f"(it printed: {(done.stderr or done.stdout).strip()[-300:]!r}). "
                         "Point --python at the interpreter that has rasa-sdk.") from None
    if not found.get("rasa_sdk"):
        raise UsageError(f"{python} has no rasa-sdk installed, so it cannot run the action "
                         "server. Install the project's actions/requirements.txt (with "
                         "rasa-sdk) there, or point --python at the interpreter that has it.")
    return SdkEnvironment(python, str(found["rasa_sdk"]), bool(found.get("pytest")))


class ActionClient:
    """Talks to an action server: /health, /actions, and POST /webhook."""

    def __init__(self, session: requests.Session, base_url: str, *, timeout_s: float = 30.0
                 ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def _get(self, path: str) -> Answer:
        import requests

        try:
            response = self.session.get(f"{self.base_url}{path}", timeout=3)
        except requests.RequestException as error:
            return Answer(0, None, str(error))
        return _answer(response)

    def healthy(self) -> bool:
        answer = self._get("/health")
        return answer.status == 200 and isinstance(answer.body, dict) and \
            answer.body.get("status") == "ok"

    def served_actions(self) -> tuple[str, ...] | None:
        answer = self._get("/actions")
        if answer.status != 200 or not isinstance(answer.body, list):
            return None
        return tuple(str(item.get("name")) for item in answer.body if isinstance(item, dict))

    def call(self, request: dict[str, Any], *, deflate: bool = False) -> Answer:
        """POST /webhook; ``deflate`` compresses the body as rasa does with
        COMPRESS_ACTION_SERVER_REQUEST=true. A connection failure is status 0."""
        import requests

        headers = {"Content-Type": "application/json"}
        if deflate:
            headers["Content-Encoding"] = "deflate"
        try:
            response = self.session.post(f"{self.base_url}/webhook",
                                         data=encode(request, deflate=deflate),
                                         headers=headers, timeout=self.timeout_s)
        except requests.RequestException as error:
            return Answer(0, None, f"no answer from {self.base_url}/webhook: {error}")
        return _answer(response)


def _answer(response: requests.Response) -> Answer:
    try:
        body = response.json()
    except ValueError:
        body = None
    return Answer(response.status_code, body, response.text[:2000])


class LocalActionServer:
    """``with LocalActionServer(...) as server:`` runs the project's action server until the
    block ends; ``server.url`` is where it answers."""

    def __init__(self, project: Path, python: str, log_file: Path, *,
                 session: requests.Session, timeout_s: float = 60.0, grpc: bool = False,
                 tls: TlsFiles | None = None) -> None:
        self.project = project
        self.python = python
        self.log_file = log_file
        self.session = session
        self.timeout_s = timeout_s
        self.port = free_port()
        self.tls = tls
        scheme = ("grpcs" if tls else "grpc") if grpc else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.startup_s: float | None = None
        self._child: subprocess.Popen[bytes] | None = None
        # Over gRPC the client is a worker process, started once and used by every check.
        self.grpc_client = (GrpcClient(python, f"127.0.0.1:{self.port}",
                                       ca_file=tls.certificate if tls else None)
                            if grpc else None)

    def _argv(self) -> list[str]:
        argv = [self.python, "-m", "rasa_sdk", "--actions", "actions", "--port",
                str(self.port)]
        if self.grpc_client is not None:
            argv.append("--grpc")
        if self.tls is not None:
            argv += ["--ssl-certificate", str(self.tls.certificate),
                     "--ssl-keyfile", str(self.tls.key)]
        return argv

    def __enter__(self) -> LocalActionServer:
        if not (self.project / "actions").exists():
            raise UsageError(f"{self.project} has no actions package (actions/ or "
                             "actions.py), so there is no action server to test.")
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        env = {**without_secrets(os.environ), "SANIC_HOST": "127.0.0.1",
               "PYTHONUNBUFFERED": "1", "ACTION_SERVER_SANIC_WORKERS": "1"}
        argv = self._argv()
        started = time.monotonic()
        with self.log_file.open("wb") as log:
            self._child = interrupts.start(lambda: subprocess.Popen(
                argv, cwd=self.project, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True))
        try:
            if self.grpc_client is not None:
                self.grpc_client.__enter__()
            self._wait(started)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait(self, started: float) -> None:
        client = self.grpc_client or ActionClient(self.session, self.url)

        def ready() -> float | None:
            assert self._child is not None
            if self._child.poll() is not None:
                raise self._failed(f"exited with code {self._child.returncode} before "
                                   "/health answered")
            return time.monotonic() - started if client.healthy() else None

        self.startup_s = poll(ready, timeout_s=self.timeout_s, interval_s=0.25)
        if self.startup_s is None:
            what = "the gRPC Actions call" if self.grpc_client else f"{self.url}/health"
            raise self._failed(f"did not answer {what} within {self.timeout_s:.0f} s")

    def _failed(self, what: str) -> ToolkitError:
        log = self.log_file.read_text(encoding="utf-8", errors="replace")
        lines = [line.strip() for line in log.splitlines() if line.strip()]
        cause = last_error_line(log) or (lines[-1] if lines else None)
        return ToolkitError(
            f"The action server ({self.python} -m rasa_sdk --actions actions"
            f"{' --grpc' if self.grpc_client else ''}) {what}."
            + (f" Its log ends with: {cause}." if cause else "")
            + f" The whole log is in {self.log_file}; an import error in actions/ or a "
              "package missing from the action server's environment are the usual causes.")

    def stop(self) -> None:
        if self.grpc_client is not None:
            self.grpc_client.close()
        if self._child is not None:
            interrupts.stop_group(self._child)
            interrupts.forget(self._child)
            self._child = None
            self._redact_log()

    def _redact_log(self) -> None:
        # The project's own variables stay in the server's environment, and an action may
        # print them: the log is a file that CI uploads.
        if self.log_file.exists():
            text = self.log_file.read_text(encoding="utf-8", errors="replace")
            self.log_file.write_text(environment_redactor()(text), encoding="utf-8")

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
