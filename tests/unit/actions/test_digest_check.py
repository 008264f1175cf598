"""The domain-digest exchange, against stand-ins that cache the domain as rasa-sdk 3.9+ does
(``ActionExecutor.update_and_return_domain``) or get it wrong; the real server is in
tests/integration/test_action_contracts_sdk39.py."""

from __future__ import annotations

from typing import Any

from ci_toolkit.actions.domain import ActionDomain
from ci_toolkit.actions.results import Answer
from ci_toolkit.actions.run import Target, digest_check, run_checks
from ci_toolkit.actions.server import SdkEnvironment

OK = Answer(200, {"events": [], "responses": []})


class CachingSdk:
    """rasa-sdk's rule: an uncached digest without a domain is 449; a domain is cached with
    the digest that came with it. ``caches=False``: forgets the domain; ``refuses=False``:
    ignores the digest (an SDK before 3.9)."""

    def __init__(self, *, caches: bool = True, refuses: bool = True) -> None:
        self.caches = caches
        self.refuses = refuses
        self.digest: str | None = None
        self.sent: list[dict[str, Any]] = []

    def call(self, request: dict[str, Any], *, deflate: bool = False) -> Answer:
        self.sent.append(request)
        action = request["next_action"]
        if action not in ("validate_order_form", "action_place_order"):
            return Answer(404, {"error": "no", "action_name": action})
        digest = request.get("domain_digest")
        if self.refuses and "domain" not in request and (not self.digest or
                                                         digest != self.digest):
            return Answer(449, {"error": "Domain context is missing.", "action_name": action})
        if "domain" in request and self.caches:
            self.digest = digest
        return OK


def _target(domain: ActionDomain, client: CachingSdk, version: str | None = "3.21.1",
            transport: Any = "http") -> Target:
    sdk = SdkEnvironment("python", version, False) if version else None
    return Target(client, domain, sdk, "server.log", transport)


def test_the_exchange_as_rasa_sdk_answers_it(domain: ActionDomain) -> None:
    server = CachingSdk()
    check = digest_check(_target(domain, server), "action_place_order")
    assert check.status == "passed", check.findings
    alone, full, again = server.sent
    assert "domain" not in alone and alone == again
    assert full["domain"] == domain.content
    assert alone["domain_digest"] == full["domain_digest"] == server.digest
    assert check.kind == "domain_digest" and check.action == "action_place_order"


def test_a_server_that_ignores_the_digest(domain: ActionDomain) -> None:
    check = digest_check(_target(domain, CachingSdk(refuses=False)), "action_place_order")
    assert check.status == "failed"
    [finding] = check.findings
    assert "should answer HTTP 449 with {'error': ..., 'action_name': ...}" in \
        finding.message
    assert "it answered HTTP 200" in finding.message


def test_a_server_that_does_not_keep_the_domain(domain: ActionDomain) -> None:
    check = digest_check(_target(domain, CachingSdk(caches=False)), "action_place_order")
    assert check.status == "failed"
    [finding] = check.findings
    assert finding.message.startswith("the digest again, without the domain: ")


def test_the_grpc_wording(domain: ActionDomain) -> None:
    server = CachingSdk(refuses=False)
    check = digest_check(_target(domain, server, transport="grpc"), "action_place_order")
    assert check.name == "domain digest: DOMAIN not found for an uncached digest, then cached"
    assert "should answer NOT_FOUND with a ResourceNotFound (resource_type DOMAIN)" in \
        check.findings[0].message


def test_an_older_sdk_is_skipped_with_its_version(domain: ActionDomain) -> None:
    server = CachingSdk(refuses=False)
    check = digest_check(_target(domain, server, version="3.6.2"), "action_place_order")
    assert check.status == "skipped" and not server.sent
    assert check.reason == "rasa-sdk 3.6.2 does not cache the domain (rasa-sdk 3.9.0 and " \
                           "later do)"


def test_an_unknown_version_is_tried(domain: ActionDomain) -> None:
    old = digest_check(_target(domain, CachingSdk(refuses=False), version=None),
                       "action_place_order")
    assert old.status == "skipped" and "its rasa-sdk version is unknown" in str(old.reason)
    new = digest_check(_target(domain, CachingSdk(), version=None), "action_place_order")
    assert new.status == "passed"


def test_the_exchange_uses_an_action_that_answered(domain: ActionDomain) -> None:
    server = CachingSdk()
    checks = {check.name: check for check in run_checks(_target(domain, server), [])}
    assert checks["domain digest: 449 for an uncached digest, then cached"].action == \
        "validate_order_form"
    nothing = digest_check(_target(domain, server), None)
    assert nothing.status == "skipped" and "no action answered" in str(nothing.reason)


def test_over_grpc_every_name_says_so_and_there_is_no_deflate(domain: ActionDomain) -> None:
    checks = run_checks(_target(domain, CachingSdk(), transport="grpc"), [])
    assert [check.name for check in checks] == [
        "grpc: protocol: validate_order_form", "grpc: protocol: action_place_order",
        "grpc: unknown action answers NOT_FOUND (ACTION)",
        "grpc: domain digest: DOMAIN not found for an uncached digest, then cached"]
    assert all(check.status == "passed" for check in checks)
