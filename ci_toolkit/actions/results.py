"""The typed results of the contract tests, and their JSON form (actions.json).

One ``CheckResult`` a check: the protocol check of each action, the unknown action, the
compressed body, each declarative case, the team's unit tests. A failed check carries its
findings (what is wrong and how to fix it), the request it sent and the answer it got.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["passed", "failed", "skipped"]
Kind = Literal["protocol", "unknown_action", "compressed", "domain_digest", "case",
               "unit_tests"]
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Finding:
    """One problem: ``message`` says what is wrong and how to fix it."""

    message: str
    action: str | None = None
    file: str | None = None
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "action": self.action, "file": self.file,
                "line": self.line}


@dataclass(frozen=True)
class Answer:
    """What the server answered: the HTTP status and the body (JSON when it parsed). Over
    gRPC, ``grpc`` holds the status code name and details, and ``status`` is the HTTP status
    rasa-sdk gives the same outcome (ci_toolkit/actions/grpc_client.py)."""

    status: int
    body: Any
    text: str = ""
    grpc: dict[str, str] | None = None

    def describe(self) -> str:
        """The status as the transport names it, and the start of the answer."""
        if self.grpc is not None:
            return f"gRPC {self.grpc.get('code')} {self.grpc.get('details', '')[:300]!r}"
        return f"HTTP {self.status} {self.text[:300]!r}"

    def to_dict(self) -> dict[str, Any]:
        data = {"status": self.status, "body": self.body}
        if self.grpc is not None:
            data["grpc_status"] = self.grpc.get("code")
            data["grpc_details"] = self.grpc.get("details")
        return data


@dataclass(frozen=True)
class CheckResult:
    name: str
    kind: Kind
    status: Status
    action: str | None = None
    findings: tuple[Finding, ...] = ()
    reason: str | None = None  # why it was skipped
    request: dict[str, Any] | None = None  # sent, without the domain
    answer: Answer | None = None
    duration_s: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "kind": self.kind, "status": self.status,
            "action": self.action, "reason": self.reason,
            "findings": [finding.to_dict() for finding in self.findings],
            "request": self.request,
            "answer": self.answer.to_dict() if self.answer else None,
            "duration_s": round(self.duration_s, 3),
        }


@dataclass(frozen=True)
class ServerInfo:
    url: str
    sdk_version: str | None  # None when the server was given by URL and is not probed
    started_by_toolkit: bool
    startup_s: float | None = None
    log_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "sdk_version": self.sdk_version,
                "started_by_toolkit": self.started_by_toolkit,
                "startup_s": None if self.startup_s is None else round(self.startup_s, 3),
                "log_file": self.log_file}


@dataclass(frozen=True)
class ActionsResult:
    server: ServerInfo
    checks: tuple[CheckResult, ...] = field(default_factory=tuple)
    duration_s: float = 0.0

    @property
    def passed(self) -> bool:
        return not any(check.failed for check in self.checks)

    def count(self, status: Status) -> int:
        return sum(1 for check in self.checks if check.status == status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "passed": self.passed,
            "counts": {status: self.count(status)
                       for status in ("passed", "failed", "skipped")},
            "server": self.server.to_dict(),
            "duration_s": round(self.duration_s, 3),
            # Failures first: the part a reader needs.
            "checks": [check.to_dict() for check in
                       sorted(self.checks, key=lambda check: not check.failed)],
        }
