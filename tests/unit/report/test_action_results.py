"""report.json's `actions` section: read from actions.json, checked, typed, round-tripped;
version 1 reports (no section) still load; the --fail-on-action-errors gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci_toolkit.errors import UsageError
from ci_toolkit.report.action_results import load_action_results, with_actions
from ci_toolkit.report.gates import GateSettings, evaluate_gates
from ci_toolkit.report.load import load_report, parse_report
from ci_toolkit.report.model import SCHEMA_VERSION, Report, Status
from ci_toolkit.report.schema import schema_errors
from tests import paths
from tests.unit.report.action_results_data import actions_result, write_actions_json

V1_REPORT = paths.FIXTURES / "reports" / "coffeebot.json"


def v1_report() -> Report:
    return load_report(V1_REPORT)


def test_the_section_is_actions_json_typed(tmp_path: Path) -> None:
    actions = load_action_results(write_actions_json(tmp_path))
    assert actions.passed is False and actions.counts == {"passed": 1, "failed": 1, "skipped": 1}
    assert actions.server.sdk_version == "3.6.2" and actions.server.started_by_toolkit
    [failed] = actions.failed_checks
    assert failed.status is Status.FAILED and failed.action == "action_explode"
    assert failed.findings[0].message.startswith("action_explode raised an exception")
    assert failed.request is not None and failed.request["next_action"] == "action_explode"
    assert failed.answer is not None and (failed.answer.status, failed.answer.body) == (
        500, {"error": "boom"})
    # actions.json lists the failed checks first; the section keeps that order.
    assert [check.status.value for check in actions.checks] == ["failed", "passed", "skipped"]
    assert actions.results_file is not None and actions.results_file.endswith("actions.json")


def test_a_report_with_the_section_is_valid_and_round_trips(tmp_path: Path) -> None:
    report = with_actions(v1_report(), write_actions_json(tmp_path))
    data = report.to_dict()
    assert data["schema_version"] == SCHEMA_VERSION == 2
    assert list(data).index("actions") == list(data).index("cross_validation") + 1
    assert schema_errors(data) == []
    again = parse_report(json.loads(json.dumps(data)), source="the report")
    assert again.to_dict() == data and again.actions == report.actions


def test_a_version_1_report_without_the_section_still_loads_unchanged() -> None:
    original = json.loads(V1_REPORT.read_text(encoding="utf-8"))
    assert original["schema_version"] == 1 and "actions" not in original
    report = v1_report()
    assert report.actions is None and report.schema_version == 1
    assert report.to_dict() == original  # no `actions` key appears


def test_a_version_2_report_without_actions_has_the_key_as_null() -> None:
    data = Report().to_dict()
    assert data["schema_version"] == 2 and data["actions"] is None
    assert "actions" not in Report(schema_version=1).to_dict()


def test_no_path_leaves_the_report_alone() -> None:
    report = v1_report()
    assert with_actions(report, None) is report


@pytest.mark.parametrize(("content", "message"), [
    (None, "there are no action results at"),
    ("{not json", "is not valid JSON"),
    ("[]", "holds a JSON list, not an object"),
    ({"format_version": 2}, "have format_version 2, but this ci-toolkit reads format version 1"),
    ({"format_version": 1, "passed": "yes"},
     "are not an actions.json (docs/action-tests.md): counts is missing"),
], ids=["missing", "not-json", "list", "newer-format", "wrong-shape"])
def test_unusable_action_results_say_what_is_wrong(tmp_path: Path, content: object,
                                                   message: str) -> None:
    path = tmp_path / "actions.json"
    if content is not None:
        path.write_text(content if isinstance(content, str) else json.dumps(content),
                        encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        load_action_results(path)
    text = caught.value.message
    assert message in text and str(path) in text
    assert "ci-toolkit actions test" in text  # the fix


def test_a_wrong_shape_names_the_bad_key(tmp_path: Path) -> None:
    path = write_actions_json(tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["checks"][0]["status"] = "exploded"
    del data["server"]["url"]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        load_action_results(path)
    assert "checks[0].status is \"exploded\", but must be one of: passed, failed, skipped" in (
        caught.value.message)
    assert "server.url is missing" in caught.value.message


def test_a_wrong_results_path_fails_when_the_settings_are_checked(tmp_path: Path) -> None:
    # Before the pipeline runs, not after.
    with pytest.raises(UsageError, match="there are no action results at"):
        GateSettings(actions_results=tmp_path / "nope.json").check()
    assert GateSettings(actions_results=write_actions_json(tmp_path)).check()


# --- the gate ------------------------------------------------------------------------------

GATE_CASES = [
    # (what the report holds, passed, value, words in the message)
    ("no section", False, None, ("has no action-server results", "--actions-results",
                                 "--allow-action-errors")),
    ("one failed", False, 1, ("1 of 3 action checks failed (protocol: action_explode)",
                              "--fail-on-action-errors")),
    ("all passed", True, 0, ("all 2 action checks passed or were skipped",)),
]


@pytest.mark.parametrize(("holds", "passed", "value", "words"), GATE_CASES,
                         ids=[case[0] for case in GATE_CASES])
def test_the_action_errors_gate(tmp_path: Path, holds: str, passed: bool, value: int | None,
                                words: tuple[str, ...]) -> None:
    report = v1_report()
    if holds != "no section":
        result = actions_result(failed=holds == "one failed")
        report = with_actions(report, write_actions_json(tmp_path, result))
    settings = GateSettings(fail_on_action_errors=True)
    assert settings.configured
    [gate] = evaluate_gates(report, None, settings)
    assert (gate.kind, gate.metric, gate.passed, gate.value) == (
        "action_errors", "actions.counts.failed", passed, value)
    for word in words:
        assert word in gate.message


def test_many_failed_checks_are_counted_not_all_named(tmp_path: Path) -> None:
    result = actions_result()
    failed = result.checks[1]
    many = tuple(type(failed)(f"protocol: action_{n}", "protocol", "failed", action=f"a{n}")
                 for n in range(5))
    report = with_actions(v1_report(), write_actions_json(
        tmp_path, type(result)(result.server, many)))
    [gate] = evaluate_gates(report, None, GateSettings(fail_on_action_errors=True))
    assert "5 of 5 action checks failed (protocol: action_0, protocol: action_1, protocol: " \
           "action_2 and 2 more)" in gate.message


def test_without_the_gate_failed_checks_fail_nothing(tmp_path: Path) -> None:
    report = with_actions(v1_report(), write_actions_json(tmp_path))
    assert not GateSettings(actions_results=tmp_path / "actions.json").configured
    assert evaluate_gates(report, None, GateSettings()) == []
