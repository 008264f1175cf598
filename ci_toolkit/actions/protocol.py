"""The requests Rasa sends an action server (``POST /webhook``), built without rasa.

The shape follows rasa 3.x (``RemoteAction._action_call_format`` and
``DialogueStateTracker.current_state(EventVerbosity.ALL)``) and what rasa-sdk 3.x reads
(``Tracker.from_dict``): ``next_action``, ``sender_id``, ``tracker``, ``domain``, ``version``.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ci_toolkit.actions.domain import ActionDomain

SENDER_ID = "ci-toolkit-contract-test"
# Sent as `version` when the SDK's own is unknown; rasa-sdk only warns when major.minor of
# rasa and rasa-sdk differ (utils.check_version_compatibility).
DEFAULT_RASA_VERSION = "3.6.0"
ACTION_LISTEN = "action_listen"
_STARTED_AT = 1_700_000_000.0  # fixed timestamps: the same request on every run
# rasa-sdk decompresses `Content-Encoding: deflate` bodies (zlib, what rasa's aiohttp sends
# with COMPRESS_ACTION_SERVER_REQUEST=true) from these releases of each line on.
DEFLATE_SINCE = {(2, 8): (2, 8, 11), (3, 2): (3, 2, 3), (3, 3): (3, 3, 1), (3, 4): (3, 4, 1)}
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class Message:
    """The latest user message: what NLU made of it."""

    intent: str | None = None
    entities: tuple[Mapping[str, Any], ...] = ()
    text: str | None = None

    def parse_data(self) -> dict[str, Any]:
        intent = {"name": self.intent, "confidence": 1.0} if self.intent else {}
        return {
            "text": self.text if self.text is not None else "",
            "intent": intent,
            "intent_ranking": [intent] if intent else [],
            "entities": [dict(entity) for entity in self.entities],
            "message_id": None,
            "metadata": {},
        }


@dataclass(frozen=True)
class Given:
    """The conversation state a request describes (a case's `given`)."""

    slots: Mapping[str, Any] = field(default_factory=dict)
    message: Message = field(default_factory=Message)
    events: tuple[Mapping[str, Any], ...] = ()  # after the user message, as a form adds them
    active_loop: str | None = None


def _event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"event": kind, "timestamp": _STARTED_AT, **fields}


def _action(name: str) -> dict[str, Any]:
    return _event("action", name=name, policy=None, confidence=None, action_text=None,
                  hide_rule_turn=False)


def default_message(domain: ActionDomain) -> Message:
    """What a request carries when no message is given: the domain's first intent, as
    rasa records a message that triggers an intent directly (``/intent``)."""
    intent = domain.intents[0] if domain.intents else None
    return Message(intent=intent, text=f"/{intent}" if intent else None)


def tracker_events(given: Given, message: Message) -> list[dict[str, Any]]:
    """A session as rasa records it: session start, the slots set, then the user's turn."""
    slots = [_event("slot", name=name, value=value) for name, value in given.slots.items()]
    user = _event("user", text=message.text, parse_data=message.parse_data(),
                  input_channel=None, message_id=None)
    return [_action("action_session_start"), _event("session_started"), *slots,
            _action(ACTION_LISTEN), user, *(dict(event) for event in given.events)]


def build_request(action: str, domain: ActionDomain, given: Given | None = None, *,
                  version: str | None = None, with_domain: bool = True) -> dict[str, Any]:
    """The body of ``POST /webhook`` that asks the server to run ``action``."""
    given = given or Given()
    message = given.message if given.message != Message() else default_message(domain)
    slots: dict[str, Any] = {name: None for name in domain.slots}
    slots.update(given.slots)
    active_loop = ({"name": given.active_loop, "validate": True, "rejected": False,
                    "trigger_message": message.parse_data()}
                   if given.active_loop else {})
    tracker = {
        "sender_id": SENDER_ID,
        "slots": slots,
        "latest_message": message.parse_data(),
        "latest_event_time": _STARTED_AT,
        "followup_action": None,
        "paused": False,
        "events": tracker_events(given, message),
        "latest_input_channel": None,
        "active_loop": active_loop,
        "latest_action": {"action_name": ACTION_LISTEN},
        "latest_action_name": ACTION_LISTEN,
    }
    request: dict[str, Any] = {"next_action": action, "sender_id": SENDER_ID,
                               "tracker": tracker, "version": version or DEFAULT_RASA_VERSION}
    if with_domain:
        request["domain"] = domain.content
    return request


def unknown_action_name(domain: ActionDomain) -> str:
    """An action name the server cannot know: none of the domain's, unlikely in code."""
    name = "action_ci_toolkit_contract_unknown"
    while name in domain.actions:
        name += "_"
    return name


def encode(body: Mapping[str, Any], *, deflate: bool = False) -> bytes:
    data = json.dumps(body).encode("utf-8")
    return zlib.compress(data) if deflate else data


def parse_version(version: str | None) -> tuple[int, int, int] | None:
    match = _VERSION.match(version or "")
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def supports_deflate(sdk_version: str | None) -> bool | None:
    """Whether that rasa-sdk reads deflate-compressed bodies; None when the version is
    unknown (a server given by URL)."""
    parsed = parse_version(sdk_version)
    if parsed is None:
        return None
    since = DEFLATE_SINCE.get(parsed[:2])
    if since is not None:
        return parsed >= since
    return parsed >= (3, 4, 1)


def describe_versions() -> str:
    return ", ".join(".".join(map(str, since)) for since in DEFLATE_SINCE.values()) + " and later"


def request_summary(request: Mapping[str, Any]) -> dict[str, Any]:
    """A request without the domain, which is the same in every request and long."""
    return {key: value for key, value in request.items() if key != "domain"}

