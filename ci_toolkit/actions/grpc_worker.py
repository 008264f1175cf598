"""The gRPC client of the contract tests: makes the gRPC calls to the action server.

This file runs in the action server's own interpreter (the one with rasa-sdk >= 3.9, grpcio
and the SDK's generated stubs, rasa_sdk/grpc_py), never in the toolkit's: it imports the
standard library, grpc, protobuf and rasa_sdk, nothing of ci_toolkit.
ci_toolkit/actions/grpc_client.py starts it and talks to it.

Protocol, one JSON object a line:
  argv:     grpc_worker.py TARGET [CA_FILE]   (host:port; CA_FILE: TLS with that root)
  request:  {"op": "actions"}                  -> {"code": "OK", "body": [...]}
            {"op": "webhook", "request": {...}} -> {"code": "OK", "body": {...}}
            (the request is the JSON body of POST /webhook; it is converted to a
            WebhookRequest as rasa does, ParseDict with unknown fields ignored)
  answer:   {"code": NAME, "details": TEXT, "body": ...}; code is the gRPC status name
            (OK, NOT_FOUND, INTERNAL, UNKNOWN, UNAVAILABLE, ...), details the status details
            (the SDK puts its error as JSON there), body the answer as JSON when code is OK.
  bad input: {"code": "BAD_REQUEST", "details": what was wrong}.
The worker ends at the end of its input.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from typing import Any

# The Domain message has lists of items that are a name or a mapping (Intent, Entity,
# Action: string_value | dict_value); the Tracker's active_loop is map<string, string>.
_NAMED_LISTS = ("intents", "entities", "actions")
TIMEOUT_S = 30.0
# The server is polled while it starts: a refused connection must be retried soon, not
# after grpc's default reconnect backoff (1 s, growing to 2 minutes).
CHANNEL_OPTIONS = [("grpc.initial_reconnect_backoff_ms", 100),
                   ("grpc.min_reconnect_backoff_ms", 100),
                   ("grpc.max_reconnect_backoff_ms", 500)]


def _named(item: Any) -> dict[str, Any]:
    return {"dict_value": item} if isinstance(item, dict) else {"string_value": str(item)}


def grpc_request(body: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of POST /webhook in the shape of the WebhookRequest message."""
    request = dict(body)
    domain = request.get("domain")
    if isinstance(domain, dict):
        request["domain"] = {key: ([_named(item) for item in value]
                                   if key in _NAMED_LISTS and isinstance(value, list)
                                   else value)
                             for key, value in domain.items()}
    tracker = request.get("tracker")
    if isinstance(tracker, dict) and isinstance(tracker.get("active_loop"), dict):
        loop = {key: value for key, value in tracker["active_loop"].items()
                if isinstance(value, str)}
        request["tracker"] = {**tracker, "active_loop": loop}
    return request


class Worker:
    def __init__(self, target: str, ca_file: str | None) -> None:
        import grpc
        from rasa_sdk.grpc_py import action_webhook_pb2, action_webhook_pb2_grpc

        self.grpc = grpc
        self.messages = action_webhook_pb2
        if ca_file:
            with open(ca_file, "rb") as handle:
                credentials = grpc.ssl_channel_credentials(root_certificates=handle.read())
            channel = grpc.secure_channel(target, credentials, options=CHANNEL_OPTIONS)
        else:
            channel = grpc.insecure_channel(target, options=CHANNEL_OPTIONS)
        self.stub = action_webhook_pb2_grpc.ActionServiceStub(channel)

    def answer(self, command: dict[str, Any]) -> dict[str, Any]:
        from google.protobuf.json_format import MessageToDict, ParseDict, ParseError

        op = command.get("op")
        if op == "actions":
            call, message = self.stub.Actions, self.messages.ActionsRequest()
        elif op == "webhook" and isinstance(command.get("request"), dict):
            call = self.stub.Webhook
            try:
                message = ParseDict(grpc_request(command["request"]),
                                    self.messages.WebhookRequest(), ignore_unknown_fields=True)
            except ParseError as error:
                return {"code": "BAD_REQUEST", "details": f"not a WebhookRequest: {error}"}
        else:
            return {"code": "BAD_REQUEST", "details": f"unknown command {command!r}"}
        try:
            reply = call(message, timeout=TIMEOUT_S)
        except self.grpc.RpcError as error:
            return {"code": error.code().name, "details": error.details() or ""}
        body = MessageToDict(reply, preserving_proto_field_name=True)
        if op == "actions":
            return {"code": "OK", "details": "", "body": body.get("actions", [])}
        # proto3 leaves out empty repeated fields; rasa-sdk's HTTP answer always has both.
        return {"code": "OK", "details": "",
                "body": {"events": body.get("events", []),
                         "responses": body.get("responses", [])}}


def serve(lines: Iterable[str], answer: Callable[[dict[str, Any]], dict[str, Any]],
          write: Callable[[str], None]) -> None:
    """One answer line for each command line; a line that is not a JSON object is answered
    BAD_REQUEST and the worker goes on."""
    for line in lines:
        try:
            command = json.loads(line)
        except ValueError as error:
            reply = {"code": "BAD_REQUEST", "details": f"not a JSON line: {error}"}
        else:
            reply = (answer(command) if isinstance(command, dict) else
                     {"code": "BAD_REQUEST", "details": "a command is a JSON object"})
        write(json.dumps(reply) + "\n")


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print("usage: grpc_worker.py HOST:PORT [CA_FILE]", file=sys.stderr)
        return 2
    worker = Worker(argv[1], argv[2] if len(argv) == 3 else None)
    serve(sys.stdin, worker.answer, _write)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
