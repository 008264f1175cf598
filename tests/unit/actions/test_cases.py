"""Matching an answer against a case, and cases checked against the domain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ci_toolkit.actions.case_files import Case, Expectation, load_case_file
from ci_toolkit.actions.cases import (
    check_against_domain,
    load_checked_cases,
    match_case,
    value_matches,
)
from ci_toolkit.actions.domain import ActionDomain
from ci_toolkit.actions.protocol import Given
from ci_toolkit.actions.results import Answer
from ci_toolkit.errors import UsageError
from tests import paths

SLOT = {"event": "slot", "timestamp": None, "name": "drink", "value": "latte"}
REPLY = {"text": "Your large latte is on its way! Order number 42.", "buttons": [],
         "custom": {}, "response": None}


def case(**expect: Any) -> Case:
    return Case(name="c", action="action_place_order", given=Given(),
                expect=Expectation(**expect), file="tests/actions/a.yml", line=3)


@pytest.mark.parametrize(("expected", "actual", "matches"), [
    ({"event": "slot", "name": "drink"}, SLOT, True),  # keys not named are ignored
    ({"event": "slot", "value": "tea"}, SLOT, False),
    ({"event": "slot", "colour": None}, SLOT, False),  # a named key must be there
    ({"text": {"regex": r"Order number \d+"}}, REPLY, True),
    ({"text": {"regex": r"^Order"}}, REPLY, False),
    ({"text": {"regex": "x"}}, {"text": None}, False),
    ({"custom": {}}, REPLY, True),
    ({"value": {"a": {"regex": "^b"}}}, {"value": {"a": "bc", "z": 1}}, True),
    ({"value": [1, 2]}, {"value": [1, 2]}, True),
    ({"value": [1]}, {"value": [1, 2]}, False),
    ({"value": 1}, {"value": 1.0}, True),
    ({"value": True}, {"value": 1}, False),
    ({"value": None}, {"value": None}, True),
    ({"value": "1"}, {"value": 1}, False),
])
def test_value_matching(expected: Any, actual: Any, matches: bool) -> None:
    assert value_matches(expected, actual) is matches


def test_exact_matching_wants_the_same_items() -> None:
    answer = Answer(200, {"events": [SLOT], "responses": [REPLY]})
    assert match_case(case(events=({"name": "drink"},), responses=({"text": REPLY["text"]},)),
                      answer) == []
    [finding] = match_case(case(events=()), answer)
    assert finding.message.startswith("case 'c' (tests/actions/a.yml:3): expected 0 events, "
                                      "action_place_order answered 1")
    assert "match: subset" in finding.message
    assert (finding.file, finding.line, finding.action) == (
        "tests/actions/a.yml", 3, "action_place_order")
    [finding] = match_case(case(responses=({"text": "Hello"},)), answer)
    assert 'responses 1: expected {"text": "Hello"}, got {"text": "Your large' in \
        finding.message


def test_subset_matching_keeps_the_order() -> None:
    other = {"event": "slot", "name": "size", "value": "large"}
    answer = Answer(200, {"events": [other, SLOT, other], "responses": []})
    assert match_case(case(match="subset", events=({"name": "drink"},)), answer) == []
    assert match_case(case(match="subset", events=({"name": "size"}, {"name": "drink"})),
                      answer) == []
    [finding] = match_case(case(match="subset", events=({"name": "drink"}, {"name": "drink"})),
                           answer)
    assert 'expected events 2 {"name": "drink"} (in this order) is not in the answer' in \
        finding.message


def test_a_list_not_given_is_not_checked() -> None:
    answer = Answer(200, {"events": [SLOT], "responses": [REPLY]})
    assert match_case(case(responses=({"text": {"regex": "latte"}},)), answer) == []


def test_a_rejection_is_expected_or_not() -> None:
    rejected = Answer(400, {"error": "no", "action_name": "action_place_order"})
    assert match_case(case(rejected=True), rejected) == []
    [finding] = match_case(case(rejected=True), Answer(200, {"events": [], "responses": []}))
    assert "expected action_place_order to reject the call" in finding.message
    assert "it answered HTTP 200" in finding.message


def test_the_example_cases_fit_the_example_domain(domain: ActionDomain) -> None:
    assert len(load_checked_cases(paths.EXAMPLE, domain)) == 4


@pytest.mark.parametrize(("case_text", "message"), [
    ("action: action_nope", "the action 'action_nope' is not a custom action of the domain "
                            "(validate_order_form, action_place_order)"),
    ("action: utter_greet", "the action 'utter_greet' is not a custom action"),
    ("action: action_place_order\n    given: {slots: {colour: red}}",
     "given.slots names colour, not slots of the domain"),
    ("action: validate_order_form\n    given: {active_loop: pay_form}",
     "given.active_loop 'pay_form' is not a form of the domain (order_form)"),
])
def test_a_case_that_does_not_fit_the_domain(tmp_path: Path, domain: ActionDomain,
                                             case_text: str, message: str) -> None:
    path = tmp_path / "a.yml"
    path.write_text(f"cases:\n  - {case_text}\n    expect: {{events: []}}\n")
    [loaded] = load_case_file(path)
    with pytest.raises(UsageError) as raised:
        check_against_domain(loaded, domain)
    assert message in raised.value.message
    assert raised.value.message.startswith(f"{path}:2: case 'a #1': ")
    assert (raised.value.file, raised.value.line) == (str(path), 2)
