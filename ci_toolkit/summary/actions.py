"""The summary's Action server section, from the report's `actions` section.

Everything in it comes from the project's action code and domain (check and action names,
findings, the request sent and the answer the server gave): the templates escape it like
every other untrusted text, and the request and answer go into code fences as JSON.
"""

from __future__ import annotations

import json
from typing import Any

from ci_toolkit.report.actions_model import ActionAnswer, ActionCheck, Actions
from ci_toolkit.report.model import Report
from ci_toolkit.summary.view import (
    MAX_EXCHANGE,
    ActionCheckRow,
    ActionsSummary,
    CutList,
    plural,
    shorten,
)


def exchange_json(value: Any) -> str:
    """A request or an answer as indented JSON, cut to MAX_EXCHANGE characters."""
    if value is None:
        return ""
    shown = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)
    if len(shown) > MAX_EXCHANGE:
        shown = shown[:MAX_EXCHANGE].rstrip() + "\n… (cut: the whole exchange is in actions.json)"
    return shown


def _answer_status(answer: ActionAnswer | None) -> str:
    """The status the server really gave: a gRPC answer is stored with the HTTP status its
    gRPC status maps to (docs/action-tests.md), and keeps the gRPC one in ``grpc_status``."""
    if answer is None:
        return ""
    grpc_status = answer.extra.get("grpc_status")
    return f"gRPC {grpc_status}" if grpc_status else f"HTTP {answer.status}"


def _row(check: ActionCheck) -> ActionCheckRow:
    findings = [shorten(finding.message) for finding in check.findings]
    note = findings[0] if findings else shorten(check.reason or "", 200)
    answer = check.answer
    return ActionCheckRow(
        name=str(check.name), status=check.status.value, note=note, findings=findings,
        request=exchange_json(check.request),
        answer=exchange_json(answer.body) if answer is not None else "",
        answer_status=_answer_status(answer))


def actions_summary(report: Report) -> ActionsSummary | None:
    """The section, or None when the report has no contract-test results."""
    actions: Actions | None = report.actions
    if actions is None:
        return None
    failed = [_row(check) for check in actions.checks if check.failed]
    others = [_row(check) for check in actions.checks if not check.failed]
    counts = actions.counts
    return ActionsSummary(
        server=str(actions.server.url), sdk_version=actions.server.sdk_version,
        counts=", ".join(f"{counts.get(status, 0)} {status}"
                         for status in ("passed", "failed", "skipped")),
        total=len(actions.checks),
        failed=CutList("failed action checks", failed), others=others)


def failed_checks_phrase(report: Report) -> str | None:
    """"2 of 9 action checks failed" for the line of what changed, or None."""
    actions = report.actions
    if actions is None or not actions.failed_checks:
        return None
    return (f"{len(actions.failed_checks)} of {plural(len(actions.checks), 'action check')} "
            "failed")
