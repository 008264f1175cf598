"""Run every contract check against one action server and collect a typed result.

The checks, in order: one protocol check for each custom action and form validation action
of the domain (called with a minimal valid tracker; the answer must be one Rasa accepts),
the unknown action (rasa-sdk's 404 with ``error`` and ``action_name``), a
deflate-compressed body (where the SDK reads one; HTTP only), the domain-digest exchange
(where the SDK caches the domain), the team's declarative cases, and the team's own unit
tests. Over gRPC (``Target.transport``) the same checks run through
ci_toolkit/actions/grpc_client.py, whose answers carry the HTTP status rasa-sdk gives the
same outcome, and every check's name starts with "grpc: ".
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from ci_toolkit.actions.case_files import Case
from ci_toolkit.actions.cases import match_case
from ci_toolkit.actions.digest import run_digest
from ci_toolkit.actions.domain import ActionDomain
from ci_toolkit.actions.features import DOMAIN_CACHING_SINCE, since_text, supports_domain_caching
from ci_toolkit.actions.protocol import (
    Given,
    build_request,
    describe_versions,
    request_summary,
    supports_deflate,
    unknown_action_name,
)
from ci_toolkit.actions.results import Answer, CheckResult, Finding
from ci_toolkit.actions.server import SdkEnvironment
from ci_toolkit.actions.validate import validate_answer

Transport = Literal["http", "grpc"]
MISSING_DOMAIN_STATUS = 449  # rasa-sdk's answer to a digest it has not cached, no domain


class Caller(Protocol):
    """What the checks need of a client: ActionClient (HTTP) or GrpcClient."""

    def call(self, request: dict[str, Any], *, deflate: bool = False) -> Answer: ...


@dataclass(frozen=True)
class Target:
    """The server under test and what is known about it."""

    client: Caller
    domain: ActionDomain
    sdk: SdkEnvironment | None  # None: a server given by URL, its environment unknown
    log_hint: str  # where the server's log is, for messages
    transport: Transport = "http"

    @property
    def version(self) -> str | None:
        return self.sdk.sdk_version if self.sdk else None

    @property
    def grpc(self) -> bool:
        return self.transport == "grpc"


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
    expected = ("OK, or INTERNAL with an ActionExecutionFailed (action_name, message) in "
                "the details" if target.grpc else "200, or 400 with 'error' and 'action_name'")
    return [Finding(f"{action}: the server answered {answer.describe()}; rasa-sdk answers "
                    f"{expected} when the action rejects the call.", action)]


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
    expected = (f"NOT_FOUND with a ResourceNotFound (resource_type ACTION, action_name "
                f"{name!r}) in the details" if target.grpc else
                f"HTTP 404 with {{'error': ..., 'action_name': {name!r}}}")
    if answer.status != 404 or body.get("action_name") != name or \
            not isinstance(body.get("error"), str):
        findings.append(Finding(
            f"calling an action the server does not have ({name}) should answer {expected}, "
            f"as rasa-sdk does; it answered {answer.describe()}. Rasa reads this answer to "
            "tell a missing action from a broken one."))
    title = "NOT_FOUND (ACTION)" if target.grpc else "404"
    return _result(f"unknown action answers {title}", "unknown_action", None, findings,
                   request, answer, elapsed)


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


DIGEST_CHECK = "domain digest: 449 for an uncached digest, then cached"
GRPC_DIGEST_CHECK = "domain digest: DOMAIN not found for an uncached digest, then cached"


def _digest_step(step: str, answer: Answer, action: str, target: Target) -> list[Finding]:
    """The findings of one step of the exchange that must answer the action's result."""
    return [Finding(f"{step}: {problem.message}", action)
            for problem in answer_problems(answer, action, target)]


def _missing_domain_findings(answer: Answer, action: str, target: Target) -> list[Finding]:
    body = answer.body if isinstance(answer.body, dict) else {}
    if answer.status == MISSING_DOMAIN_STATUS and body.get("action_name") == action and \
            isinstance(body.get("error"), str):
        return []
    expected = ("NOT_FOUND with a ResourceNotFound (resource_type DOMAIN) in the details"
                if target.grpc else "HTTP 449 with {'error': ..., 'action_name': ...}")
    return [Finding(f"a request with a domain_digest the server has not cached and no domain "
                    f"should answer {expected}, as rasa-sdk does (rasa then sends the "
                    f"domain); it answered {answer.describe()}.", action)]


def digest_check(target: Target, action: str | None) -> CheckResult:
    """The domain-caching exchange: an uncached digest alone is refused, the digest with the
    domain answers, then the digest alone answers (the server cached it)."""
    name = GRPC_DIGEST_CHECK if target.grpc else DIGEST_CHECK
    supported = supports_domain_caching(target.version)
    if supported is False or action is None:
        return CheckResult(name=name, kind="domain_digest", status="skipped", reason=(
            f"rasa-sdk {target.version} does not cache the domain (rasa-sdk "
            f"{since_text(DOMAIN_CACHING_SINCE)} do)" if action else
            "no action answered its protocol check, so none can take part in the exchange"))
    digest = run_digest(target.domain.content, uuid.uuid4().hex[:12])
    full = {**build_request(action, target.domain, version=target.version),
            "domain_digest": digest}
    alone = {key: value for key, value in full.items() if key != "domain"}
    started = time.monotonic()
    refused = target.client.call(alone)
    findings = _missing_domain_findings(refused, action, target)
    if supported is None and findings:
        return CheckResult(name=name, kind="domain_digest", status="skipped", reason=(
            f"the server did not refuse an uncached domain_digest ({refused.describe()}) and "
            f"its rasa-sdk version is unknown; rasa-sdk {since_text(DOMAIN_CACHING_SINCE)} "
            "refuse it"), request=request_summary(alone), answer=refused)
    findings += _digest_step("with the domain", target.client.call(full), action, target)
    cached = target.client.call(alone)
    findings += _digest_step("the digest again, without the domain", cached, action, target)
    return _result(name, "domain_digest", action, findings, alone, cached,
                   time.monotonic() - started)


def _answering_action(checks: list[CheckResult]) -> str | None:
    """The first action whose protocol check passed with a 200 answer."""
    return next((check.action for check in checks if check.status == "passed"
                 and check.answer is not None and check.answer.status == 200), None)


def run_checks(target: Target, cases: list[Case]) -> list[CheckResult]:
    checks = [protocol_check(action, target) for action in target.domain.actions_to_check]
    answering = _answering_action(checks)
    checks.append(unknown_action_check(target))
    if not target.grpc:  # gRPC compresses on the transport (gzip); there is no deflate body
        checks.append(compressed_check(target))
    checks.append(digest_check(target, answering))
    checks += [case_check(case, target) for case in cases]
    if target.grpc:
        checks = [replace(check, name=f"grpc: {check.name}") for check in checks]
    return checks

