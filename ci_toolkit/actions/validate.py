"""Is an action server's answer one that Rasa accepts and can act on?

Rasa validates the answer against ``EVENTS_SCHEMA`` (rasa/shared/utils/schemas/events.py)
and then builds each event with its class in rasa/shared/core/events.py; a response that
fails either makes the whole action fail in production. ``EVENTS`` below is that contract
written out as a table (the toolkit never imports rasa): the event types rasa 3.x knows, the
fields each requires and the JSON types of the fields it reads. Beyond what rasa checks, a
slot must be one the domain declares (rasa would set it nowhere) and a `response` must be
one the domain defines (rasa would silently send nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ci_toolkit.actions.domain import ActionDomain
from ci_toolkit.actions.results import Finding

# JSON types by name, as in JSON Schema.
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "number": (int, float), "integer": (int,), "boolean": (bool,),
    "object": (dict,), "array": (list,), "null": (type(None),),
}


@dataclass(frozen=True)
class EventSpec:
    required: Mapping[str, str] = field(default_factory=dict)  # field -> JSON type(s)
    optional: Mapping[str, str] = field(default_factory=dict)


_OPTIONAL_NAME = {"name": "string|null"}
EVENTS: dict[str, EventSpec] = {
    "user": EventSpec(optional={"text": "string|null", "input_channel": "string|null",
                                "message_id": "string|null", "parse_data": "object"}),
    "action": EventSpec(optional={"name": "string|null", "policy": "string|null",
                                  "confidence": "number|null", "hide_rule_turn": "boolean",
                                  "action_text": "string|null"}),
    "slot": EventSpec(required={"name": "string", "value": "any"}),
    "entities": EventSpec(required={"entities": "array"}),
    "user_featurization": EventSpec(optional={"use_text_for_featurization": "boolean|null"}),
    # ReminderScheduled._from_story_string parses `date_time` (None crashes) and triggers
    # `intent` when the reminder fires.
    "reminder": EventSpec(required={"intent": "string", "date_time": "string"},
                          optional={"entities": "array|null", "name": "string|null",
                                    "kill_on_user_msg": "boolean"}),
    "cancel_reminder": EventSpec(optional={"name": "string|null", "intent": "string|null",
                                           "entities": "array|null"}),
    "action_execution_rejected": EventSpec(optional={"name": "string|null",
                                                     "policy": "string|null",
                                                     "confidence": "number|null"}),
    "form_validation": EventSpec(optional={"validate": "boolean"}),
    "loop_interrupted": EventSpec(optional={"is_interrupted": "boolean"}),
    "form": EventSpec(optional=_OPTIONAL_NAME),
    "active_loop": EventSpec(optional=_OPTIONAL_NAME),
    "reset_slots": EventSpec(),
    "resume": EventSpec(),
    "pause": EventSpec(),
    # FollowupAction makes rasa run the named action next; without a name it cannot.
    "followup": EventSpec(required={"name": "string"}),
    "export": EventSpec(optional={"path": "string|null"}),
    "restart": EventSpec(),
    "undo": EventSpec(),
    "rewind": EventSpec(),
    "bot": EventSpec(optional={"text": "string|null", "data": "object|null"}),
    "session_started": EventSpec(),
    "agent": EventSpec(optional={"text": "string|null", "data": "object|null"}),
}
_COMMON = {"timestamp": "number|null", "metadata": "object|null"}
_ENTITY_FIELDS = {"start": "integer", "end": "integer", "entity": "string",
                  "confidence": "number", "extractor": "string|null", "role": "string|null",
                  "group": "string|null", "value": "any"}
# What a message from `dispatcher.utter_message` may carry, and the JSON types rasa reads.
RESPONSE_FIELDS = {"text": "string|null", "image": "string|null", "buttons": "array|null",
                   "elements": "array|null", "custom": "object|null", "response": "string|null",
                   "template": "string|null", "attachment": "any"}
_CONTENT_FIELDS = ("text", "image", "buttons", "elements", "custom", "response", "attachment")
_FIX_EVENTS = "Build events with the helpers in rasa_sdk.events (SlotSet, FollowupAction, ...)."


def type_matches(value: Any, expected: str) -> bool:
    if expected == "any":
        return True
    for name in expected.split("|"):
        # bool is an int in Python, but not a JSON number.
        if isinstance(value, bool) and name in ("number", "integer"):
            continue
        if isinstance(value, _JSON_TYPES[name]):
            return True
    return False


def _json_type(value: Any) -> str:
    for name, types in _JSON_TYPES.items():
        if isinstance(value, types) and not (isinstance(value, bool) and name != "boolean"):
            return name
    return type(value).__name__


def validate_answer(answer: Any, action: str, domain: ActionDomain) -> list[Finding]:
    """Every problem with an answer of ``POST /webhook`` (an empty list: Rasa accepts it)."""
    if not isinstance(answer, dict):
        return [Finding(f"{action} answered {_json_type(answer)}, not a JSON object with "
                        "'events' and 'responses'. Return a list of events from run(); the "
                        "SDK builds the object.", action)]
    findings: list[Finding] = []
    for key in ("events", "responses"):
        value = answer.get(key, [])
        if not isinstance(value, list):
            findings.append(Finding(f"{action} answered '{key}' as {_json_type(value)}; "
                                    "Rasa needs a list.", action))
    if findings:
        return findings
    for number, event in enumerate(answer.get("events", []), start=1):
        findings += validate_event(event, action, number, domain)
    for number, message in enumerate(answer.get("responses", []), start=1):
        findings += validate_response(message, action, number, domain)
    return findings


def validate_event(event: Any, action: str, number: int, domain: ActionDomain
                   ) -> list[Finding]:
    where = f"{action}: event {number}"
    if not isinstance(event, dict):
        return [Finding(f"{where} is {_json_type(event)}, not an object. {_FIX_EVENTS}",
                        action)]
    kind = event.get("event")
    if not isinstance(kind, str) or kind not in EVENTS:
        shown = "no 'event' key" if kind is None else f"the unknown type {kind!r}"
        return [Finding(f"{where} has {shown}: Rasa rejects the whole answer. Known types: "
                        f"{', '.join(sorted(EVENTS))}. {_FIX_EVENTS}", action)]
    spec = EVENTS[kind]
    findings = [Finding(f"{where} ({kind}) lacks the field '{name}' that Rasa requires. "
                        f"{_FIX_EVENTS}", action)
                for name in spec.required if name not in event]
    for name, expected in {**_COMMON, **spec.optional, **spec.required}.items():
        if name in event and not type_matches(event[name], expected):
            findings.append(Finding(
                f"{where} ({kind}): '{name}' is {_json_type(event[name])}, Rasa needs "
                f"{expected.replace('|', ' or ')}. {_FIX_EVENTS}", action))
    if kind == "entities" and isinstance(event.get("entities"), list):
        findings += _entity_findings(event["entities"], where, action)
    if kind == "slot" and isinstance(event.get("name"), str) and \
            event["name"] not in domain.slots:
        findings.append(Finding(
            f"{where} sets the slot {event['name']!r}, which the domain does not declare "
            f"(it declares: {', '.join(domain.slots)}). Declare it under 'slots:' in "
            f"{domain.path.name}, or fix the slot name in the action.", action))
    return findings


def _entity_findings(entities: list[Any], where: str, action: str) -> list[Finding]:
    findings: list[Finding] = []
    for index, entity in enumerate(entities, start=1):
        if not isinstance(entity, dict) or "entity" not in entity or "value" not in entity:
            findings.append(Finding(f"{where}: entity {index} needs 'entity' and 'value'.",
                                    action))
            continue
        findings += [Finding(f"{where}: entity {index}: '{name}' is "
                             f"{_json_type(entity[name])}, Rasa needs "
                             f"{expected.replace('|', ' or ')}.", action)
                     for name, expected in _ENTITY_FIELDS.items()
                     if name in entity and not type_matches(entity[name], expected)]
    return findings


def validate_response(message: Any, action: str, number: int, domain: ActionDomain
                      ) -> list[Finding]:
    where = f"{action}: response {number}"
    if not isinstance(message, dict):
        return [Finding(f"{where} is {_json_type(message)}, not an object. Send messages "
                        "with dispatcher.utter_message(...).", action)]
    findings = [Finding(f"{where}: '{name}' is {_json_type(message[name])}, Rasa needs "
                        f"{expected.replace('|', ' or ')}.", action)
                for name, expected in RESPONSE_FIELDS.items()
                if name in message and not type_matches(message[name], expected)]
    if findings:
        return findings
    if not any(message.get(name) for name in _CONTENT_FIELDS):
        findings.append(Finding(f"{where} is empty: no text, image, buttons, elements, "
                                "custom payload, attachment or response name. Give "
                                "utter_message at least one of them.", action))
    for name in ("response", "template"):
        value = message.get(name)
        if value and value not in domain.responses:
            findings.append(Finding(
                f"{where} names the response {value!r}, which the domain does not define, "
                f"so Rasa would send nothing. Add {value!r} under 'responses:' in "
                f"{domain.path.name}, or fix the name in utter_message(response=...).",
                action))
            break  # rasa-sdk sends the same name as `template` too: say it once
    for index, button in enumerate(message.get("buttons") or [], start=1):
        if not (isinstance(button, dict) and isinstance(button.get("title"), str)
                and isinstance(button.get("payload"), str)):
            findings.append(Finding(f"{where}: button {index} needs a 'title' and a "
                                    "'payload', both texts.", action))
    return findings
