"""How each check reads the server's answers (the server is a stand-in that answers as
rasa-sdk does; tests/integration/test_action_contracts.py runs the real one)."""

from __future__ import annotations

from typing import Any

import pytest

from ci_toolkit.actions.case_files import Case, Expectation
from ci_toolkit.actions.domain import ActionDomain
from ci_toolkit.actions.protocol import Given
from ci_toolkit.actions.results import Answer
from ci_toolkit.actions.run import (
    Target,
    answer_problems,
    case_check,
    compressed_check,
    run_checks,
    unknown_action_check,
)
from ci_toolkit.actions.server import SdkEnvironment

OK = Answer(200, {"events": [], "responses": []})


class StandIn:
    """Answers each POST /webhook from a table: action name -> Answer (plain, deflate)."""

    def __init__(self, answers: dict[str, Answer], deflated: Answer | None = None) -> None:
        self.answers = answers
        self.deflated = deflated
        self.calls: list[tuple[str, bool]] = []

    def call(self, request: dict[str, Any], *, deflate: bool = False) -> Answer:
        name = request["next_action"]
        self.calls.append((name, deflate))
        if deflate and self.deflated is not None:
            return self.deflated
        return self.answers.get(name, Answer(404, {"error": "not found", "action_name": name}))


def target(domain: ActionDomain, client: StandIn, version: str | None = "3.6.2") -> Target:
    sdk = SdkEnvironment("python", version, False) if version else None
    return Target(client, domain, sdk, "server.log")  # type: ignore[arg-type]


@pytest.mark.parametrize(("answer", "message"), [
    (Answer(0, None, "connection refused"), "the server did not answer (connection refused)"),
    (Answer(500, {"error": "boom", "request_body": {}}), "raised an exception: 'boom'. Fix "
                                                         "the action (the traceback is in "
                                                         "server.log)"),
    (Answer(404, {"error": "x", "action_name": "action_place_order"}),
     "does not know action_place_order: define an Action whose name() returns"),
    (Answer(400, {"error": "x"}), "answered HTTP 400"),
    (Answer(502, None, "bad gateway"), "answered HTTP 502 'bad gateway'"),
    (Answer(200, {"events": [{"event": "nope"}]}), "unknown type 'nope'"),
])
def test_answers_that_fail(domain: ActionDomain, answer: Answer, message: str) -> None:
    [finding] = answer_problems(answer, "action_place_order", target(domain, StandIn({})))
    assert message in finding.message
    assert finding.action == "action_place_order"


def test_a_rejection_with_the_documented_body_is_part_of_the_protocol(
        domain: ActionDomain) -> None:
    rejected = Answer(400, {"error": "no", "action_name": "action_place_order"})
    assert answer_problems(rejected, "action_place_order", target(domain, StandIn({}))) == []
    assert answer_problems(OK, "action_place_order", target(domain, StandIn({}))) == []


def test_the_unknown_action_must_answer_404_with_its_body(domain: ActionDomain) -> None:
    assert unknown_action_check(target(domain, StandIn({}))).status == "passed"
    client = StandIn({"action_ci_toolkit_contract_unknown": OK})
    check = unknown_action_check(target(domain, client))
    assert check.status == "failed"
    assert "should answer HTTP 404" in check.findings[0].message
    assert check.request is not None and "domain" not in check.request
    assert check.answer == OK


def test_the_compressed_body(domain: ActionDomain) -> None:
    answers = {"validate_order_form": OK}
    passed = compressed_check(target(domain, StandIn(answers)))
    assert passed.status == "passed" and passed.action == "validate_order_form"
    refused = StandIn(answers, deflated=Answer(500, None, "not JSON"))
    failed = compressed_check(target(domain, refused))
    assert failed.status == "failed"
    assert "HTTP 200 plain but HTTP 500 with Content-Encoding: deflate" in \
        failed.findings[0].message
    assert refused.calls == [("validate_order_form", False), ("validate_order_form", True)]


def test_the_compressed_body_where_the_sdk_cannot_read_it(domain: ActionDomain) -> None:
    old = compressed_check(target(domain, StandIn({}), version="3.4.0"))
    assert old.status == "skipped"
    assert "rasa-sdk 3.4.0 does not read compressed bodies" in str(old.reason)
    unknown = StandIn({"validate_order_form": OK}, deflated=Answer(400, None, "bad json"))
    skipped = compressed_check(target(domain, unknown, version=None))
    assert skipped.status == "skipped" and "version is unknown" in str(skipped.reason)


def _case(**expect: Any) -> Case:
    return Case("c", "action_place_order", Given(), Expectation(**expect), "a.yml", 2)


def test_a_case_reports_the_answer_and_the_expectation(domain: ActionDomain) -> None:
    reply = Answer(200, {"events": [], "responses": [{"text": "hi", "response": "utter_x"}]})
    check = case_check(_case(responses=({"text": "bye"},)),
                       target(domain, StandIn({"action_place_order": reply})))
    messages = [finding.message for finding in check.findings]
    assert check.status == "failed" and len(messages) == 2
    assert all(message.startswith("case 'c' (a.yml:2): ") for message in messages)
    assert "names the response 'utter_x'" in messages[0]
    assert 'responses 1: expected {"text": "bye"}' in messages[1]


def test_a_case_that_rejects_unexpectedly(domain: ActionDomain) -> None:
    rejected = Answer(400, {"error": "no", "action_name": "action_place_order"})
    stand_in = StandIn({"action_place_order": rejected})
    check = case_check(_case(events=()), target(domain, stand_in))
    assert "action_place_order rejected the call (HTTP 400" in check.findings[0].message
    assert case_check(_case(rejected=True), target(domain, stand_in)).status == "passed"


def test_every_action_of_the_domain_is_called(domain: ActionDomain) -> None:
    client = StandIn({"validate_order_form": OK, "action_place_order": OK})
    checks = run_checks(target(domain, client), [_case(events=())])
    assert [check.name for check in checks] == [
        "protocol: validate_order_form", "protocol: action_place_order",
        "unknown action answers 404", "deflate-compressed request body",
        "domain digest: 449 for an uncached digest, then cached", "case: c"]
    assert [check.status for check in checks] == ["passed"] * 4 + ["skipped", "passed"]
