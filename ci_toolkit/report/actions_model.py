"""The `actions` section of report.json: the action server's contract tests, as
`ci-toolkit actions test` wrote them to actions.json (docs/action-tests.md), typed.

The section holds actions.json's keys (without its own ``format_version``, which the
report's ``schema_version`` replaces) plus ``results_file``, the actions.json it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ci_toolkit.report.records import Codec, Record, Status, choice, many, one


@dataclass(frozen=True)
class ActionFinding(Record):
    """One fault of a check; ``message`` says what is wrong and how to fix it."""

    message: str
    action: str | None = None
    file: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class ActionAnswer(Record):
    """What the action server answered: the HTTP status and the JSON body (null if none)."""

    status: int
    body: Any = None


@dataclass(frozen=True)
class ActionCheck(Record):
    FIELDS: ClassVar[Mapping[str, Codec]] = {
        "status": choice(Status), "findings": many(ActionFinding), "answer": one(ActionAnswer)}
    name: str
    kind: str
    status: Status
    action: str | None = None
    reason: str | None = None
    findings: list[ActionFinding] = field(default_factory=list)
    request: dict[str, Any] | None = None
    answer: ActionAnswer | None = None
    duration_s: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED


@dataclass(frozen=True)
class ActionServerInfo(Record):
    url: str
    sdk_version: str | None = None
    started_by_toolkit: bool = False
    startup_s: float | None = None
    log_file: str | None = None


@dataclass(frozen=True)
class Actions(Record):
    FIELDS: ClassVar[Mapping[str, Codec]] = {
        "server": one(ActionServerInfo), "checks": many(ActionCheck)}
    passed: bool
    counts: dict[str, int]
    server: ActionServerInfo
    duration_s: float = 0.0
    checks: list[ActionCheck] = field(default_factory=list)
    results_file: str | None = None

    @property
    def failed_checks(self) -> list[ActionCheck]:
        return [check for check in self.checks if check.failed]
