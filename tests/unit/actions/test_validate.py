"""Answers Rasa accepts, and answers it rejects or cannot act on, each with its message.

The good events and messages are what rasa-sdk 3.6's helpers (rasa_sdk.events,
CollectingDispatcher.utter_message) send."""

from __future__ import annotations

from typing import Any

import pytest

from ci_toolkit.actions.domain import ActionDomain
from ci_toolkit.actions.validate import EVENTS, type_matches, validate_answer

ACTION = "action_place_order"
# rasa_sdk.executor.CollectingDispatcher.utter_message(text="hi")
TEXT_MESSAGE = {"text": "hi", "buttons": [], "elements": [], "custom": {}, "template": None,
                "response": None, "image": None, "attachment": None}

GOOD_EVENTS: list[dict[str, Any]] = [
    {"event": "slot", "timestamp": None, "name": "drink", "value": "latte"},
    {"event": "slot", "timestamp": None, "name": "requested_slot", "value": None},
    {"event": "slot", "timestamp": None, "name": "session_started_metadata", "value": {}},
    {"event": "followup", "timestamp": None, "name": "action_listen"},
    {"event": "reminder", "timestamp": None, "intent": "greet", "entities": None,
     "date_time": "2026-01-01T10:00:00", "name": "r", "kill_on_user_msg": True},
    {"event": "cancel_reminder", "timestamp": None, "intent": None, "entities": None,
     "name": "r"},
    {"event": "active_loop", "name": None, "timestamp": None},
    {"event": "active_loop", "name": "order_form", "timestamp": None},
    {"event": "loop_interrupted", "is_interrupted": False, "timestamp": None},
    {"event": "action", "name": "utter_greet", "policy": None, "confidence": None,
     "timestamp": None},
    {"event": "action_execution_rejected", "name": "x", "policy": None, "confidence": None,
     "timestamp": None},
    {"event": "user", "timestamp": None, "text": "hi", "parse_data": {},
     "input_channel": None},
    {"event": "bot", "timestamp": None, "text": "hi", "data": {}, "metadata": {}},
    {"event": "agent", "text": "hi", "data": None, "timestamp": None},
    {"event": "entities", "entities": [{"entity": "drink", "value": "tea", "start": 0,
                                        "end": 3, "confidence": 1.0}]},
    *({"event": kind, "timestamp": None} for kind in (
        "restart", "session_started", "rewind", "reset_slots", "undo", "export", "pause",
        "resume")),
]
GOOD_MESSAGES: list[dict[str, Any]] = [
    TEXT_MESSAGE,
    {**TEXT_MESSAGE, "text": None, "template": "utter_greet", "response": "utter_greet",
     "name": "Ann"},  # kwargs fill the response's variables
    {**TEXT_MESSAGE, "text": None, "image": "https://example.com/a.png"},
    {**TEXT_MESSAGE, "text": None, "custom": {"payload": "map"}},
    {**TEXT_MESSAGE, "buttons": [{"title": "Yes", "payload": "/affirm"}]},
    {"text": "minimal, as another SDK may send it"},
]


def test_every_event_type_of_rasa_is_in_the_table() -> None:
    # rasa/shared/utils/schemas/events.py, EVENT_SCHEMA's oneOf, in rasa 3.6.
    assert set(EVENTS) == {
        "user", "action", "slot", "entities", "user_featurization", "cancel_reminder",
        "reminder", "action_execution_rejected", "form_validation", "loop_interrupted", "form",
        "active_loop", "reset_slots", "resume", "pause", "followup", "export", "restart",
        "undo", "rewind", "bot", "session_started", "agent"}


def test_good_answers_have_no_findings(domain: ActionDomain) -> None:
    assert validate_answer({"events": GOOD_EVENTS, "responses": GOOD_MESSAGES}, ACTION,
                           domain) == []
    assert validate_answer({}, ACTION, domain) == []  # rasa reads both with .get(..., [])


@pytest.mark.parametrize(("answer", "messages"), [
    (None, ["answered null, not a JSON object"]),
    ([], ["answered array"]),
    ({"events": {}}, ["'events' as object; Rasa needs a list"]),
    ({"responses": "hi"}, ["'responses' as string"]),
    ({"events": ["slot"]}, ["event 1 is string, not an object"]),
    ({"events": [{"name": "x"}]}, ["event 1 has no 'event' key"]),
    ({"events": [{"event": "teleport"}]}, ["event 1 has the unknown type 'teleport': Rasa "
                                           "rejects the whole answer"]),
    ({"events": [{"event": "slot", "name": "drink"}]},
     ["event 1 (slot) lacks the field 'value'"]),
    ({"events": [{"event": "slot", "value": 1}]}, ["lacks the field 'name'"]),
    ({"events": [{"event": "slot", "name": 3, "value": 1}]},
     ["'name' is number, Rasa needs string"]),
    ({"events": [{"event": "slot", "name": "colour", "value": "red"}]},
     ["sets the slot 'colour', which the domain does not declare", "Declare it under "
      "'slots:' in domain.yml"]),
    ({"events": [{"event": "followup"}]}, ["(followup) lacks the field 'name'"]),
    ({"events": [{"event": "reminder", "intent": "greet"}]}, ["lacks the field 'date_time'"]),
    ({"events": [{"event": "restart", "timestamp": "now"}]},
     ["'timestamp' is string, Rasa needs number or null"]),
    ({"events": [{"event": "action", "name": "a", "confidence": True}]},
     ["'confidence' is boolean, Rasa needs number or null"]),
    ({"events": [{"event": "bot", "metadata": []}]}, ["'metadata' is array"]),
    ({"events": [{"event": "entities", "entities": [{"entity": "drink"}]}]},
     ["entity 1 needs 'entity' and 'value'"]),
    ({"events": [{"event": "entities", "entities": [{"entity": "d", "value": 1,
                                                      "start": "0"}]}]},
     ["entity 1: 'start' is string, Rasa needs integer"]),
    ({"events": [{"event": "slot", "name": "drink", "value": 1}, {"event": "x"}]},
     ["event 2 has the unknown type 'x'"]),
    ({"responses": ["hi"]}, ["response 1 is string, not an object"]),
    ({"responses": [{**TEXT_MESSAGE, "text": None}]}, ["response 1 is empty"]),
    ({"responses": [{"text": 5}]}, ["'text' is number, Rasa needs string or null"]),
    ({"responses": [{**TEXT_MESSAGE, "text": None, "response": "utter_nope",
                     "template": "utter_nope"}]},
     ["names the response 'utter_nope', which the domain does not define, so Rasa would "
      "send nothing"]),
    ({"responses": [{"text": "x", "buttons": [{"title": "Yes"}]}]},
     ["button 1 needs a 'title' and a 'payload'"]),
    ({"responses": [{"text": "x", "custom": "map"}]}, ["'custom' is string"]),
])
def test_bad_answers_say_what_is_wrong(domain: ActionDomain, answer: Any,
                                       messages: list[str]) -> None:
    findings = validate_answer(answer, ACTION, domain)
    assert len(findings) == 1, findings
    assert findings[0].action == ACTION
    assert findings[0].message.startswith(ACTION)
    for message in messages:
        assert message in findings[0].message


def test_every_problem_is_reported(domain: ActionDomain) -> None:
    answer = {"events": [{"event": "slot", "name": "colour", "value": 1}, {"event": "?"}],
              "responses": [{"text": None}, {"response": "utter_nope"}]}
    messages = [finding.message for finding in validate_answer(answer, ACTION, domain)]
    assert len(messages) == 4
    assert "event 1" in messages[0] and "event 2" in messages[1]
    assert "response 1" in messages[2] and "response 2" in messages[3]


@pytest.mark.parametrize(("value", "expected", "matches"), [
    (1, "number", True), (1.5, "number", True), (True, "number", False),
    (True, "boolean", True), (None, "string|null", True), ("x", "string|null", True),
    (1, "integer", True), (1.0, "integer", False), ({}, "object", True), ([], "object", False),
    ("anything", "any", True),
])
def test_json_types(value: Any, expected: str, matches: bool) -> None:
    assert type_matches(value, expected) is matches
