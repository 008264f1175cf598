"""Run every contract check against one action server and collect a typed result.

The checks, in order: one protocol check for each custom action and form validation action
of the domain (called with a minimal valid tracker; the answer must be one Rasa accepts),
the unknown action (rasa-sdk's 404 with ``error`` and ``action_name``), a
deflate-compressed body (where the SDK reads one), the team's declarative cases, and the
team's own unit tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ci_toolkit.actions.case_files import Case
from ci_toolkit.actions.cases import match_case
from ci_toolkit.actions.domain import ActionDomain
from ci_toolkit.actions.protocol import (
    Given,
    build_request,
    describe_versions,
    request_summary,
    supports_deflate,
    unknown_action_name,
)
from ci_toolkit.actions.results import Answer, CheckResult, Finding
from ci_toolkit.actions.server import ActionClient, SdkEnvironment
from ci_toolkit.actions.validate import validate_answer


@dataclass(frozen=True)
class Target:
    """The server under test and what is known about it."""

    client: ActionClient
    domain: ActionDomain
    sdk: SdkEnvironment | None  # None: a server given by URL, its environment unknown
    log_hint: str  # where the server's log is, for messages

    @property
    def version(self) -> str | None:
        return self.sdk.sdk_version if self.sdk else None


def answer_problems(answer: Answer, action: str, target: Target) -> list[Finding]:
    """The findings of a call that did not answer 200, or of a 200 answer Rasa rejects.
    A 400 from rasa-sdk is the action refusing to run (ActionExecutionRejection), which is
    part of the protocol; it must carry the documented body."""
    body = answer.body if isinstance(answer.body, dict) else {}
    if answer.status == 200:
        return validate_answer(answer.body, action, target.domain)
    if answer.status == 0:
        return [Finding(f"{action}: the server did not answer ({answer.text}).", action)]
    if answer.status == 500:
        return [Finding(f"{action} raised an exception: {body.get('error') or answer.text!r}. "
                        f"Fix the action (the traceback is in {target.log_hint}).", action)]
    if answer.status == 404:
        return [Finding(f"the action server does not know {action}: define an Action whose "
                        f"name() returns {action!r} in the actions package, or remove it "
                        f"from the domain.", action)]
    if answer.status == 400 and body.get("action_name") == action and "error" in body:
        return []
    return [Finding(f"{action}: the server answered HTTP {answer.status} "
                    f"{answer.text[:300]!r}; rasa-sdk answers 200, or 400 with 'error' and "
                    "'action_name' when the action rejects the call.", action)]


def _timed(call: Callable[[], Answer]) -> tuple[Answer, float]:
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def _result(name: str, kind: Any, action: str | None, findings: list[Finding],
            request: dict[str, Any], answer: Answer, elapsed: float) -> CheckResult:
    return CheckResult(name=name, kind=kind, status="failed" if findings else "passed",
                       action=action, findings=tuple(findings),
                       request=request_summary(request), answer=answer, duration_s=elapsed)


def protocol_check(action: str, target: Target) -> CheckResult:
    form = action.removeprefix("validate_")
    # A form's validation action runs while its form is the active loop.
    given = Given(active_loop=form if form in target.domain.forms else None)
    request = build_request(action, target.domain, given, version=target.version)
    answer, elapsed = _timed(lambda: target.client.call(request))
    return _result(f"protocol: {action}", "protocol", action,
                   answer_problems(answer, action, target), request, answer, elapsed)


def unknown_action_check(target: Target) -> CheckResult:
    name = unknown_action_name(target.domain)
    request = build_request(name, target.domain, version=target.version)
    answer, elapsed = _timed(lambda: target.client.call(request))
    body = answer.body if isinstance(answer.body, dict) else {}
    findings = []
    if answer.status != 404 or body.get("action_name") != name or \
            not isinstance(body.get("error"), str):
        findings.append(Finding(
            f"calling an action the server does not have ({name}) should answer HTTP 404 "
            f"with {{'error': ..., 'action_name': {name!r}}}, as rasa-sdk does; it answered "
            f"HTTP {answer.status} {answer.text[:300]!r}. Rasa reads this answer to tell a "
            "missing action from a broken one."))
    return _result("unknown action answers 404", "unknown_action", None, findings, request,
                   answer, elapsed)


def compressed_check(target: Target) -> CheckResult:
    name = "deflate-compressed request body"
    supported = supports_deflate(target.version)
    if supported is False:
        return CheckResult(name=name, kind="compressed", status="skipped", reason=(
            f"rasa-sdk {target.version} does not read compressed bodies (rasa-sdk "
            f"{describe_versions()} do)"))
    actions = target.domain.actions_to_check
    action = actions[0] if actions else unknown_action_name(target.domain)
    request = build_request(action, target.domain, version=target.version)
    plain = target.client.call(request)
    answer, elapsed = _timed(lambda: target.client.call(request, deflate=True))
    if supported is None and answer.status != plain.status:
        return CheckResult(name=name, kind="compressed", status="skipped", reason=(
            f"the server did not read a deflate body (HTTP {answer.status}) and its rasa-sdk "
            f"version is unknown; rasa-sdk {describe_versions()} read them"),
            request=request_summary(request), answer=answer)
    findings = []
    if answer.status != plain.status:
        findings.append(Finding(
            f"{action}: the same request answered HTTP {plain.status} plain but HTTP "
            f"{answer.status} with Content-Encoding: deflate, which rasa sends when "
            "COMPRESS_ACTION_SERVER_REQUEST=true.", action))
    elif answer.status == 200:
        findings += validate_answer(answer.body, action, target.domain)
    return _result(name, "compressed", action, findings, request, answer, elapsed)


def case_check(case: Case, target: Target) -> CheckResult:
    request = build_request(case.action, target.domain, case.given, version=target.version)
    answer, elapsed = _timed(lambda: target.client.call(request))
    problems = answer_problems(answer, case.action, target)
    if answer.status == 400 and not case.expect.rejected:
        problems = problems or [Finding(f"{case.action} rejected the call (HTTP 400: "
                                        f"{answer.text[:200]!r}).", case.action)]
    findings = [Finding(f"case {case.name!r} ({case.where}): {problem.message}", case.action,
                        case.file, case.line) for problem in problems]
    if answer.status == 200 or case.expect.rejected:
        findings += match_case(case, answer)
    return _result(f"case: {case.name}", "case", case.action, findings, request, answer,
                   elapsed)


def run_checks(target: Target, cases: list[Case]) -> list[CheckResult]:
    checks = [protocol_check(action, target) for action in target.domain.actions_to_check]
    checks.append(unknown_action_check(target))
    checks.append(compressed_check(target))
    checks += [case_check(case, target) for case in cases]
    return checks

