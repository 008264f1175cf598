"""The requests built for the action server, as Rasa 3.x sends them."""

from __future__ import annotations

import json
import zlib

import pytest

from ci_toolkit.actions.domain import ActionDomain
from ci_toolkit.actions.protocol import (
    SENDER_ID,
    Given,
    Message,
    build_request,
    encode,
    request_summary,
    supports_deflate,
    unknown_action_name,
)

# What rasa-sdk 3.x reads from a request (executor.run, Tracker.from_dict).
SDK_READS = {"next_action", "tracker", "domain", "version"}
TRACKER_KEYS = {"sender_id", "slots", "latest_message", "latest_event_time",
                "followup_action", "paused", "events", "latest_input_channel", "active_loop",
                "latest_action", "latest_action_name"}


def test_a_minimal_request_has_every_field_rasa_sends(domain: ActionDomain) -> None:
    request = build_request("action_place_order", domain, version="3.6.2")
    assert SDK_READS <= set(request)
    assert request["next_action"] == "action_place_order"
    assert request["sender_id"] == SENDER_ID == request["tracker"]["sender_id"]
    assert request["version"] == "3.6.2"
    assert request["domain"] is domain.content
    tracker = request["tracker"]
    assert set(tracker) == TRACKER_KEYS
    assert tracker["slots"] == {slot: None for slot in domain.slots}
    assert tracker["active_loop"] == {}
    assert tracker["paused"] is False and tracker["followup_action"] is None
    assert tracker["latest_action_name"] == "action_listen"
    # No message given: the domain's first intent, as `/greet` would trigger it.
    assert tracker["latest_message"]["intent"] == {"name": "greet", "confidence": 1.0}
    assert tracker["latest_message"]["text"] == "/greet"
    kinds = [event["event"] for event in tracker["events"]]
    assert kinds == ["action", "session_started", "action", "user"]
    assert tracker["events"][2]["name"] == "action_listen"
    assert tracker["events"][3]["parse_data"] == tracker["latest_message"]
    json.dumps(request)  # it is JSON


def test_a_given_state_fills_the_tracker(domain: ActionDomain) -> None:
    given = Given(slots={"drink": "latte"},
                  message=Message(intent="inform", text="a latte",
                                  entities=({"entity": "drink", "value": "latte"},)),
                  events=({"event": "slot", "name": "size", "value": "large"},),
                  active_loop="order_form")
    tracker = build_request("validate_order_form", domain, given)["tracker"]
    assert tracker["slots"]["drink"] == "latte" and tracker["slots"]["size"] is None
    assert tracker["latest_message"]["entities"] == [{"entity": "drink", "value": "latte"}]
    assert tracker["latest_message"]["intent"]["name"] == "inform"
    assert tracker["active_loop"]["name"] == "order_form"
    events = tracker["events"]
    # Given slots are set before the user's turn; given events come after it (a form's
    # slot candidates), which is where rasa-sdk's slots_to_validate looks.
    assert [e["event"] for e in events] == ["action", "session_started", "slot", "action",
                                            "user", "slot"]
    assert events[2] == {"event": "slot", "timestamp": events[2]["timestamp"],
                         "name": "drink", "value": "latte"}
    assert events[-1] == {"event": "slot", "name": "size", "value": "large"}


def test_the_domain_can_be_left_out(domain: ActionDomain) -> None:
    request = build_request("action_place_order", domain, with_domain=False)
    assert "domain" not in request
    assert "domain" not in request_summary(build_request("action_place_order", domain))


def test_the_unknown_action_is_not_in_the_domain(domain: ActionDomain) -> None:
    name = unknown_action_name(domain)
    assert name not in domain.actions
    crowded = ActionDomain(domain.path, (name,), (), (), (), ())
    assert unknown_action_name(crowded) != name


def test_a_compressed_body_is_zlib_deflate() -> None:
    body = {"next_action": "a", "text": "ü"}
    assert json.loads(zlib.decompress(encode(body, deflate=True))) == body
    assert json.loads(encode(body)) == body


@pytest.mark.parametrize(("version", "supported"), [
    ("3.6.2", True), ("3.4.1", True), ("3.4.0", False), ("3.3.1", True), ("3.3.0", False),
    ("3.2.3", True), ("3.2.2", False), ("3.1.2", False), ("2.8.11", True), ("2.8.10", False),
    ("3.10.0", True), ("3.16.0rc2", True), (None, None), ("", None), ("dev", None),
])
def test_which_sdk_reads_compressed_bodies(version: str | None, supported: bool | None
                                           ) -> None:
    assert supports_deflate(version) is supported
