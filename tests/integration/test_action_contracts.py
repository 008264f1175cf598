"""`ci-toolkit actions test` against the REAL action server of the example assistant
(rasa-sdk from the rasa environment), started by the command itself or given by URL.

The example's actions and case files pass; a broken copy, whose actions raise, return an
unknown event type, set an undeclared slot or utter a missing response, and whose case
expects another answer, fails with findings that name the action and the fault.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from ci_toolkit import cli
from ci_toolkit.actions.server import LocalActionServer
from tests.rasa_support import copy_example, rasa_executable

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

BROKEN_ACTIONS = '''

class ActionExplode(Action):
    def name(self) -> str:
        return "action_explode"

    def run(self, dispatcher, tracker, domain):
        raise RuntimeError("the coffee machine is on fire")


class ActionTeleport(Action):
    def name(self) -> str:
        return "action_teleport"

    def run(self, dispatcher, tracker, domain):
        return [{"event": "teleport", "to": "mars"}]


class ActionSetColour(Action):
    def name(self) -> str:
        return "action_set_colour"

    def run(self, dispatcher, tracker, domain):
        from rasa_sdk.events import SlotSet

        return [SlotSet("colour", "red")]


class ActionUtterMissing(Action):
    def name(self) -> str:
        return "action_utter_missing"

    def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(response="utter_no_such_response")
        return []
'''
BROKEN_NAMES = ("action_explode", "action_teleport", "action_set_colour",
                "action_utter_missing")



@pytest.fixture(scope="module")
def python() -> str:
    return str(Path(rasa_executable()).parent / "python")


def _run(project: Path, *options: str) -> tuple[int, dict[str, Any]]:
    code = cli.main(["actions", "test", str(project), *options])
    results = project / "results" / "actions" / "actions.json"
    return code, json.loads(results.read_text())


def _by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in data["checks"]}


def test_the_example_passes(tmp_path: Path, python: str) -> None:
    project = copy_example(tmp_path / "bot")
    # A unit test of the team's: the rasa environment has no pytest, so it is skipped.
    (project / "actions" / "test_actions.py").write_text("def test_nothing():\n    pass\n")
    code, data = _run(project, "--python", python)
    assert code == 0, json.dumps(data, indent=1)[:3000]
    checks = _by_name(data)
    assert data["server"]["sdk_version"] == "3.6.2" and data["server"]["started_by_toolkit"]
    for name in ("protocol: validate_order_form", "protocol: action_place_order",
                 "unknown action answers 404", "deflate-compressed request body"):
        assert checks[name]["status"] == "passed", checks[name]
    assert checks["domain digest: 449 for an uncached digest, then cached"]["reason"] == \
        "rasa-sdk 3.6.2 does not cache the domain (rasa-sdk 3.9.0 and later do)"
    cases = [check for check in data["checks"] if check["kind"] == "case"]
    assert len(cases) == 4 and all(case["status"] == "passed" for case in cases)
    unknown = checks["unknown action answers 404"]["answer"]
    assert unknown["status"] == 404
    assert unknown["body"]["action_name"] == "action_ci_toolkit_contract_unknown"
    unit = checks["unit tests of the actions package"]
    assert unit["status"] == "skipped"
    assert unit["reason"].startswith("pytest not installed in the action server's environment")
    log = project / "results" / "actions" / "action-server.log"
    assert "Action endpoint is up and running" in log.read_text()


def test_a_broken_copy_fails_with_findings(tmp_path: Path, python: str) -> None:
    project = copy_example(tmp_path / "bot")
    with (project / "actions" / "actions.py").open("a") as actions:
        actions.write(BROKEN_ACTIONS)
    domain = project / "domain.yml"
    domain.write_text(domain.read_text().replace(
        "  - action_place_order\n",
        "  - action_place_order\n" + "".join(f"  - {name}\n" for name in BROKEN_NAMES)))
    cases = project / "tests" / "actions" / "order.yml"
    cases.write_text(cases.read_text().replace("Sorry, we don't serve beer.",
                                               "We serve no beer."))
    code, data = _run(project, "--python", python)
    assert code == 1
    failed = {check["name"]: [finding["message"] for finding in check["findings"]]
              for check in data["checks"] if check["status"] == "failed"}
    assert set(failed) == {*(f"protocol: {name}" for name in BROKEN_NAMES),
                           "case: refuses a drink that is not on the menu"}
    assert data["checks"][0]["status"] == "failed"  # failures first
    [raised] = failed["protocol: action_explode"]
    assert raised.startswith("action_explode raised an exception: 'the coffee machine is on "
                             "fire'")
    [teleport] = failed["protocol: action_teleport"]
    assert "action_teleport: event 1 has the unknown type 'teleport'" in teleport
    [colour] = failed["protocol: action_set_colour"]
    assert "action_set_colour: event 1 sets the slot 'colour', which the domain does not " \
           "declare" in colour
    [missing] = failed["protocol: action_utter_missing"]
    assert "action_utter_missing: response 1 names the response 'utter_no_such_response', " \
           "which the domain does not define" in missing
    [case] = failed["case: refuses a drink that is not on the menu"]
    assert f"({cases}:43)" in case
    assert 'expected {"text": "We serve no beer."}, got {"text": "Sorry, we don\'t serve ' \
           'beer."' in case
    # The traceback of the action that raised is in the server's log.
    log = (project / "results" / "actions" / "action-server.log").read_text()
    assert "RuntimeError: the coffee machine is on fire" in log


def test_a_running_server_given_by_url(tmp_path: Path, python: str) -> None:
    project = copy_example(tmp_path / "bot")
    with requests.Session() as session, LocalActionServer(
            project, python, tmp_path / "server.log", session=session) as server:
        code, data = _run(project, "--url", server.url)
    assert code == 0, json.dumps(data, indent=1)[:3000]
    assert data["server"] == {"url": server.url, "sdk_version": None,
                              "started_by_toolkit": False, "startup_s": None,
                              "log_file": None}
    # The SDK's version is unknown, so the compressed body is tried; rasa-sdk 3.6 reads it.
    assert _by_name(data)["deflate-compressed request body"]["status"] == "passed"
    # The digest exchange is tried too; rasa-sdk 3.6 does not refuse the digest: a skip.
    digest = _by_name(data)["domain digest: 449 for an uncached digest, then cached"]
    assert digest["status"] == "skipped"
    assert "its rasa-sdk version is unknown" in digest["reason"]
    assert data["counts"] == {"passed": 8, "failed": 0, "skipped": 2}
