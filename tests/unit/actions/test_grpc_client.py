"""The gRPC side of the contract tests without grpcio: how the worker's replies become
answers (rasa-sdk's error contract), the JSON-lines protocol, and the request conversion.
The real gRPC server is in tests/integration/test_action_contracts_sdk39.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from ci_toolkit.actions import grpc_client
from ci_toolkit.actions.grpc_client import GrpcClient, translate
from ci_toolkit.actions.grpc_worker import grpc_request, serve


def _not_found(kind: str) -> str:
    return json.dumps({"action_name": "action_x", "message": "gone", "resource_type": kind})


REJECTED = json.dumps({"action_name": "action_x", "message": "no"})


@pytest.mark.parametrize(("reply", "status", "body"), [
    ({"code": "OK", "body": {"events": [], "responses": []}}, 200,
     {"events": [], "responses": []}),
    ({"code": "NOT_FOUND", "details": _not_found("ACTION")}, 404,
     {"error": "gone", "action_name": "action_x"}),
    ({"code": "NOT_FOUND", "details": _not_found("DOMAIN")}, 449,
     {"error": "gone", "action_name": "action_x"}),
    ({"code": "INTERNAL", "details": REJECTED}, 400, {"error": "no", "action_name": "action_x"}),
    ({"code": "UNKNOWN", "details": "Unexpected <class 'RuntimeError'>: fire"}, 500,
     {"error": "Unexpected <class 'RuntimeError'>: fire"}),
    ({"code": "UNAVAILABLE", "details": "failed to connect"}, 0, None),
    ({"code": "WORKER_GONE", "details": "ended"}, 0, None),
    # Outside the contract: a NOT_FOUND without the SDK's detail, an unknown resource type,
    # an INTERNAL that is not a rejection, another status.
    ({"code": "NOT_FOUND", "details": "no such method"}, 502, None),
    ({"code": "NOT_FOUND", "details": _not_found("MODEL")}, 502, None),
    ({"code": "INTERNAL", "details": "{\"message\": 1}"}, 502, None),
    ({"code": "PERMISSION_DENIED", "details": ""}, 502, None),
])
def test_the_sdks_error_contract(reply: dict[str, Any], status: int, body: Any) -> None:
    answer = translate(reply)
    assert (answer.status, answer.body) == (status, body)
    assert answer.grpc is not None and answer.grpc["code"] == reply["code"]
    assert answer.to_dict()["grpc_status"] == reply["code"]
    assert answer.describe().startswith(f"gRPC {reply['code']}")


def test_the_request_takes_the_shape_of_a_webhook_request() -> None:
    body = {"next_action": "a", "domain": {"intents": ["greet", {"buy": {"x": 1}}],
                                           "actions": ["a"], "slots": {"s": {}}},
            "tracker": {"active_loop": {"name": "order_form", "validate": True}}}
    converted = grpc_request(body)
    assert converted["domain"]["intents"] == [{"string_value": "greet"},
                                              {"dict_value": {"buy": {"x": 1}}}]
    assert converted["domain"]["actions"] == [{"string_value": "a"}]
    assert converted["domain"]["slots"] == {"s": {}}
    # map<string, string>: only the loop's name goes.
    assert converted["tracker"]["active_loop"] == {"name": "order_form"}
    assert body["domain"]["intents"][0] == "greet"  # the caller's request is not changed
    assert grpc_request({"next_action": "a"}) == {"next_action": "a"}


def test_the_worker_answers_each_line() -> None:
    written: list[str] = []
    serve(['{"op": "actions"}\n', "not json\n", "[1]\n"],
          lambda command: {"code": "OK", "body": command["op"]}, written.append)
    replies = [json.loads(line) for line in written]
    assert replies[0] == {"code": "OK", "body": "actions"}
    assert replies[1]["code"] == replies[2]["code"] == "BAD_REQUEST"
    assert replies[1]["details"].startswith("not a JSON line")
    assert replies[2]["details"] == "a command is a JSON object"


FAKE_WORKER = """
import json, sys
for line in sys.stdin:
    command = json.loads(line)
    if command.get("op") == "die":
        sys.stderr.write("Traceback ...\\nImportError: no grpc here\\n")
        sys.exit(1)
    reply = {"code": "OK", "details": "", "body": {"events": [], "responses": [],
             "argv": sys.argv[1:], "request": command.get("request")}}
    print(json.dumps(reply), flush=True)
"""


@pytest.fixture()
def fake_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    worker = tmp_path / "worker.py"
    worker.write_text(FAKE_WORKER)
    monkeypatch.setattr(grpc_client, "WORKER", worker)


@pytest.mark.usefixtures("fake_worker")
def test_the_client_sends_json_lines() -> None:
    with GrpcClient(sys.executable, "127.0.0.1:1", ca_file=Path("/ca.pem")) as client:
        answer = client.call({"next_action": "a"})
        assert answer.status == 200
        assert answer.body["argv"] == ["127.0.0.1:1", "/ca.pem"]
        assert answer.body["request"] == {"next_action": "a"}
        assert client.healthy()


@pytest.mark.usefixtures("fake_worker")
def test_a_worker_that_ends_is_no_answer() -> None:
    with GrpcClient(sys.executable, "127.0.0.1:1") as client:
        gone = client.exchange({"op": "die"})
        assert gone["code"] == "WORKER_GONE"
        assert "ImportError: no grpc here" in gone["details"]
        assert client.call({"next_action": "a"}).status == 0
