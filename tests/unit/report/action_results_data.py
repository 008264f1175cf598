"""actions.json as `ci-toolkit actions test` writes it, made with its own result classes, so
the report's tests read the real format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ci_toolkit.actions.results import ActionsResult, Answer, CheckResult, Finding, ServerInfo

REQUEST = {"next_action": "action_explode", "sender_id": "ci-toolkit-1",
           "tracker": {"slots": {"drink": None}, "latest_message": {"intent": {"name": "greet"}}},
           "version": "3.6.2"}


def actions_result(*, answer_body: Any = None, failed: bool = True, name: str = "action_explode",
                   message: str = "action_explode raised an exception (HTTP 500). Its "
                                  "traceback is in the action server's log.") -> ActionsResult:
    checks = [
        CheckResult("protocol: action_place_order", "protocol", "passed",
                    action="action_place_order", duration_s=0.01),
        CheckResult("unit tests of the actions package", "unit_tests", "skipped",
                    reason="no test files in actions/"),
    ]
    if failed:
        checks.insert(1, CheckResult(
            f"protocol: {name}", "protocol", "failed", action=name,
            findings=(Finding(message, action=name),), request=dict(REQUEST, next_action=name),
            answer=Answer(500, {"error": "boom"} if answer_body is None else answer_body),
            duration_s=0.02))
    server = ServerInfo("http://127.0.0.1:41187", "3.6.2", True, 1.5,
                        "results/actions/action-server.log")
    return ActionsResult(server, tuple(checks), 2.5)


def write_actions_json(directory: Path, result: ActionsResult | None = None, **changes: Any
                       ) -> Path:
    data = (result or actions_result()).to_dict()
    data.update(changes)
    path = directory / "actions.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path
