"""actions.json and the table printed at the end."""

from __future__ import annotations

import json
from pathlib import Path

from ci_toolkit.actions.output import table, write_results
from ci_toolkit.actions.results import (
    ActionsResult,
    Answer,
    CheckResult,
    Finding,
    ServerInfo,
)

RESULT = ActionsResult(
    ServerInfo("http://127.0.0.1:5055", "3.6.2", True, 1.25, "results/action-server.log"),
    (
        CheckResult("protocol: a", "protocol", "passed", action="a",
                    request={"next_action": "a"}, answer=Answer(200, {"events": []})),
        CheckResult("protocol: b", "protocol", "failed", action="b",
                    findings=(Finding("b raised an exception: 'x'.", "b"),
                              Finding("second", "b")),
                    answer=Answer(500, {"error": "x"})),
        CheckResult("unit tests", "unit_tests", "skipped", reason="no tests"),
    ),
    duration_s=2.5,
)


def test_actions_json(tmp_path: Path) -> None:
    path = write_results(RESULT, tmp_path / "out" / "actions.json")
    data = json.loads(path.read_text())
    assert data["format_version"] == 1 and data["passed"] is False
    assert data["counts"] == {"passed": 1, "failed": 1, "skipped": 1}
    assert data["server"] == {"url": "http://127.0.0.1:5055", "sdk_version": "3.6.2",
                              "started_by_toolkit": True, "startup_s": 1.25,
                              "log_file": "results/action-server.log"}
    # Failures first.
    assert [check["name"] for check in data["checks"]] == ["protocol: b", "protocol: a",
                                                           "unit tests"]
    failed = data["checks"][0]
    assert failed["findings"][0] == {"message": "b raised an exception: 'x'.", "action": "b",
                                     "file": None, "line": None}
    assert failed["answer"] == {"status": 500, "body": {"error": "x"}}
    assert data["checks"][1]["request"] == {"next_action": "a"}
    assert not list(path.parent.glob(".*partial"))


def test_the_table() -> None:
    lines = table(RESULT)
    assert lines[0] == "Action server http://127.0.0.1:5055 (rasa-sdk 3.6.2)"
    assert lines[1].startswith("  PASS  protocol: a")
    assert lines[2] == "  FAIL  protocol: b  b raised an exception: 'x'. (+1 more)"
    assert lines[3] == "  SKIP  unit tests   no tests"
    assert lines[4:7] == ["protocol: b failed:", "  - b raised an exception: 'x'.",
                          "  - second"]
    assert lines[-1] == "1 passed, 1 failed, 1 skipped in 2.5 s"
