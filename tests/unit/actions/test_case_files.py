"""Reading tests/actions/*.yml: the example loads, and every mistake names file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_toolkit.actions.case_files import Expectation, load_case_file, load_cases
from ci_toolkit.actions.protocol import Message
from ci_toolkit.errors import UsageError
from tests import paths

EXAMPLE_CASES = paths.EXAMPLE / "tests" / "actions"


def test_the_example_cases_load() -> None:
    cases = load_cases(EXAMPLE_CASES)
    assert [case.action for case in cases] == ["action_place_order", "validate_order_form",
                                               "validate_order_form", "validate_order_form"]
    first = cases[0]
    assert first.name == "places the order that the form collected"
    assert first.given.slots == {"drink": "latte", "size": "large"}
    assert first.given.message == Message(intent="affirm", text="yes please")
    assert first.expect.events == ()
    assert first.expect.responses[0]["text"] == {
        "regex": r"^Your large latte is on its way! Order number \d+\.$"}
    assert first.line == 5 and first.where.endswith("order.yml:5")
    assert cases[1].given.active_loop == "order_form"
    assert cases[1].given.events == ({"event": "slot", "name": "drink", "value": "Latte"},)
    assert cases[3].expect.match == "subset" and cases[3].expect.events is None


def test_no_directory_means_no_cases(tmp_path: Path) -> None:
    assert load_cases(tmp_path / "missing") == []


def test_a_minimal_case(tmp_path: Path) -> None:
    path = tmp_path / "a.yml"
    path.write_text("cases:\n  - action: action_a\n    expect: {rejected: true}\n")
    [case] = load_case_file(path)
    assert case.name == "a #1"
    assert case.expect == Expectation(rejected=True)
    assert case.given.message == Message()


CASE = "cases:\n  - action: a\n"


@pytest.mark.parametrize(("text", "message", "line"), [
    ("cases: [\n", "is not valid YAML", 2),
    ("- a\n", "must be a mapping with a non-empty 'cases:' list", 1),
    ("cases: []\n", "non-empty 'cases:' list", 1),
    ("cases:\n  - just text\n", "case 1 must be a mapping", None),
    ("cases:\n  - expect: {events: []}\n", "case 1 needs 'action:'", 2),
    ("cases:\n  - action: a\n    expect: {events: []}\n    given: {}\n    then: x\n",
     "case 1 has unknown key(s) then; use action, expect, given, name", 2),
    (CASE, "case 1 (cases #1) needs 'expect:'", 2),
    (CASE + "    name: 5\n    expect: {events: []}\n", "'name' must be a text", 2),
    (CASE + "    expect: {}\n", "'expect' needs events, responses or rejected: true", 3),
    (CASE + "    expect:\n      events: []\n      match: fuzzy\n",
     "'expect.match' is 'fuzzy'; use exact or subset", 4),
    (CASE + "    expect:\n      events: {}\n", "'expect.events' must be a list of mappings",
     4),
    (CASE + "    expect:\n      responses: [hi]\n", "'expect.responses' must be a list", 4),
    (CASE + "    expect:\n      rejected: yes please\n", "must be true or false", 4),
    (CASE + "    expect:\n      rejected: true\n      events: []\n",
     "give either 'rejected: true' or the lists", 4),
    (CASE + "    expect:\n      responses:\n        - text: {regex: '('}\n",
     "'(' is not a valid regular expression", 5),
    (CASE + "    expect:\n      responses:\n        - text: {regex: 5}\n",
     "a 'regex' must be a text", 5),
    (CASE + "    expect: {events: []}\n    given: [slots]\n", "'given' must be a mapping", 4),
    (CASE + "    expect: {events: []}\n    given:\n      slot: {a: 1}\n",
     "'given' has unknown key(s) slot", 5),
    (CASE + "    expect: {events: []}\n    given:\n      slots: [a]\n",
     "'given.slots' must map slot names to values", 5),
    (CASE + "    expect: {events: []}\n    given:\n      events:\n        - {name: a}\n",
     "'given.events' must be a list of events, each with an 'event' type", 6),
    (CASE + "    expect: {events: []}\n    given:\n      active_loop: [f]\n",
     "'given.active_loop' must be a form name", 5),
    (CASE + "    expect: {events: []}\n    given:\n      message: hi\n",
     "'given.message' must be a mapping", 5),
    (CASE + "    expect: {events: []}\n    given:\n      message:\n        intent: 1\n",
     "'given.message.intent' must be a text", 6),
    (CASE + "    expect: {events: []}\n    given:\n      message:\n        entities: [drink]\n",
     "'given.message.entities' must be a list of {entity: NAME, value: VALUE}", 6),
    (CASE + "    expect: {events: []}\n    given:\n      message:\n        intents: [a]\n",
     "'given.message' has unknown key(s) intents", 6),
])
def test_a_bad_case_file_names_file_and_line(tmp_path: Path, text: str, message: str,
                                             line: int | None) -> None:
    path = tmp_path / "cases.yml"
    path.write_text(text)
    with pytest.raises(UsageError) as raised:
        load_case_file(path)
    assert message in raised.value.message
    assert "docs/action-tests.md" in raised.value.message
    assert raised.value.file == str(path)
    assert raised.value.line == line


def test_a_case_name_used_twice(tmp_path: Path) -> None:
    for name in ("a.yml", "b.yaml"):
        (tmp_path / name).write_text("cases:\n  - name: same\n    action: x\n"
                                     "    expect: {events: []}\n")
    with pytest.raises(UsageError, match=r"b.yaml:2: the case name 'same' is used twice "
                                         r"\(first at .*a.yml:2\)"):
        load_cases(tmp_path)


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_bytes(b"cases: \xff\n")
    with pytest.raises(UsageError, match="is not UTF-8 text"):
        load_cases(tmp_path)
