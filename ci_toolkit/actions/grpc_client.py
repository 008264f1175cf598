"""The contract tests' client for a gRPC action server (rasa-sdk 3.9 and later).

The toolkit never imports grpcio or rasa_sdk: grpc_worker.py runs in the action server's
own interpreter and makes the calls; this side sends it JSON lines and turns each reply into
the ``Answer`` the HTTP checks read, by the error contract of rasa-sdk's gRPC service
(rasa_sdk/grpc_server.py, rasa_sdk/grpc_errors.py):

  OK                                                     -> 200 with the WebhookResponse
  NOT_FOUND, details ResourceNotFound (resource_type ACTION) -> 404, as over HTTP
  NOT_FOUND, details ResourceNotFound (resource_type DOMAIN) -> 449, as over HTTP
  INTERNAL, details ActionExecutionFailed (the action's rejection) -> 400, as over HTTP
  UNKNOWN (the action raised; grpc's own answer to an exception) -> 500
  UNAVAILABLE, DEADLINE_EXCEEDED (no answer)             -> 0
Anything else breaks the contract and becomes 502, with the gRPC status kept in the answer.
"""

from __future__ import annotations

import json
import os
import subprocess
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from ci_toolkit import interrupts
from ci_toolkit.actions.results import Answer
from ci_toolkit.errors import ToolkitError
from ci_toolkit.gha import without_secrets

WORKER = Path(__file__).with_name("grpc_worker.py")
NOT_PART_OF_CONTRACT = 502
_NO_ANSWER = ("UNAVAILABLE", "DEADLINE_EXCEEDED", "WORKER_GONE")
_NOT_FOUND_STATUS = {"ACTION": 404, "DOMAIN": 449}


def _sdk_error(details: str, *fields: str) -> dict[str, Any] | None:
    """The SDK's JSON error in the status details, when it has every field named."""
    try:
        error = json.loads(details)
    except ValueError:
        return None
    if not isinstance(error, dict) or not all(isinstance(error.get(key), str)
                                              for key in fields):
        return None
    return error


def translate(reply: dict[str, Any]) -> Answer:
    """The worker's reply as the Answer the checks read (see the table above)."""
    code = str(reply.get("code"))
    details = str(reply.get("details") or "")
    grpc = {"code": code, "details": details}
    text = f"gRPC {code} {details}".strip()
    if code == "OK":
        return Answer(200, reply.get("body"), json.dumps(reply.get("body"))[:2000], grpc)
    if code in _NO_ANSWER:
        return Answer(0, None, text, grpc)
    if code == "UNKNOWN":
        return Answer(500, {"error": details}, text, grpc)
    found = _sdk_error(details, "action_name", "message", "resource_type")
    if code == "NOT_FOUND" and found and found["resource_type"] in _NOT_FOUND_STATUS:
        return Answer(_NOT_FOUND_STATUS[found["resource_type"]],
                      {"error": found["message"], "action_name": found["action_name"]},
                      text, grpc)
    failed = _sdk_error(details, "action_name", "message")
    if code == "INTERNAL" and failed:
        return Answer(400, {"error": failed["message"], "action_name": failed["action_name"]},
                      text, grpc)
    return Answer(NOT_PART_OF_CONTRACT, None, text, grpc)


class GrpcClient:
    """``with GrpcClient(python, "127.0.0.1:PORT") as client:`` runs the worker until the
    block ends; ``call`` has ActionClient's signature, so the checks do not care."""

    def __init__(self, python: str, target: str, *, ca_file: Path | None = None) -> None:
        self.python = python
        self.target = target
        self.ca_file = ca_file
        self._child: subprocess.Popen[str] | None = None
        self._gone: str | None = None  # why the worker ended, once it has

    def __enter__(self) -> GrpcClient:
        argv = [self.python, str(WORKER), self.target]
        if self.ca_file is not None:
            argv.append(str(self.ca_file))
        self._child = interrupts.start(lambda: subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=without_secrets(os.environ), start_new_session=True))
        return self

    def exchange(self, command: dict[str, Any]) -> dict[str, Any]:
        """One command, one reply; a worker that died is a WORKER_GONE reply."""
        child = self._child
        if child is None:
            raise ToolkitError("the gRPC client is not running (use it in a `with` block)")
        if self._gone is not None:
            return {"code": "WORKER_GONE", "details": self._gone}
        stdin, stdout = child.stdin, child.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(json.dumps(command) + "\n")
            stdin.flush()
            line = stdout.readline()
        except OSError:  # a broken pipe: the worker has ended
            line = ""
        if not line:
            self._gone = self._worker_error(child)
            return {"code": "WORKER_GONE", "details": self._gone}
        try:
            reply = json.loads(line)
        except ValueError:
            return {"code": "WORKER_GONE", "details": f"the gRPC client printed {line[:200]!r}"}
        return reply if isinstance(reply, dict) else {"code": "WORKER_GONE", "details": line}

    @staticmethod
    def _worker_error(child: subprocess.Popen[str]) -> str:
        child.kill()
        child.wait()
        stderr: IO[str] | None = child.stderr
        tail = (stderr.read() if stderr else "").strip().splitlines()[-3:]
        return ("the gRPC client (grpc_worker.py in the action server's interpreter) ended: "
                + " | ".join(tail))

    def healthy(self) -> bool:
        return self.exchange({"op": "actions"}).get("code") == "OK"

    def served_actions(self) -> tuple[str, ...] | None:
        reply = self.exchange({"op": "actions"})
        body = reply.get("body")
        if reply.get("code") != "OK" or not isinstance(body, list):
            return None
        return tuple(str(item.get("name")) for item in body if isinstance(item, dict))

    def call(self, request: dict[str, Any], *, deflate: bool = False) -> Answer:
        # gRPC has no deflate body: its compression is the transport's (the SDK's server
        # is made with gzip), so ``deflate`` is ignored and the compressed check not run.
        return translate(self.exchange({"op": "webhook", "request": request}))

    def close(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        for stream in (child.stdin, child.stdout, child.stderr):
            if stream is not None:
                with suppress(OSError):  # the worker may have ended with input unread
                    stream.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            interrupts.stop_group(child)
        interrupts.forget(child)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
