"""Quality gates: each passes and fails, on real reports; exit codes and messages via the CLI."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ci_toolkit.cli import main
from ci_toolkit.errors import UsageError
from ci_toolkit.report.gates import GateSettings, parse_minimum
from ci_toolkit.report.gates import evaluate_gates as evaluate_typed
from ci_toolkit.report.model import GateResult, Report
from tests import paths

REPORTS = paths.FIXTURES / "reports"
INTENT_F1 = "nlu.intent_classification.weighted_avg.f1_score"


def evaluate_gates(report: dict, baseline: dict | None,
                   settings: GateSettings) -> list[GateResult]:
    return evaluate_typed(Report.from_dict(report),
                          None if baseline is None else Report.from_dict(baseline), settings)


def load(name: str) -> dict:
    return json.loads((REPORTS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def outside_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    # The tests may themselves run in GitHub Actions: the command must not see that.
    import os

    for name in list(os.environ):
        if name.startswith(("GITHUB_", "CI_TOOLKIT_")):
            monkeypatch.delenv(name)


@pytest.fixture
def report() -> dict:
    return load("coffeebot")


def with_value(report: dict, path: str, value: object) -> dict:
    changed = copy.deepcopy(report)
    *parents, last = path.split(".")
    node = changed
    for key in parents:
        node = node[key]
    node[last] = value
    return changed


# -- parse_minimum --------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("intent_f1>=0.9", (INTENT_F1, 0.9)),
    ("  intent_classification.weighted_avg.f1-score >= 0.85 ", (INTENT_F1, 0.85)),
    ("nlu.entity_extraction.CRFEntityExtractor.micro_avg.f1_score>=0.7",
     ("nlu.entity_extraction.CRFEntityExtractor.micro_avg.f1_score", 0.7)),
    ("conversation_accuracy>=1", ("core.conversations.accuracy", 1.0)),
    ("story_prediction.accuracy>=0", ("core.story_prediction.accuracy", 0.0)),
    ("cv_intent_f1>=.8", ("cross_validation.intent_classification.test.f1_score.mean", 0.8)),
])
def test_parse_minimum_accepts_aliases_and_paths(text: str, expected: tuple[str, float]) -> None:
    assert parse_minimum(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("intent_f1", "Write METRIC>=VALUE"),
    ("intent_f1<=0.9", "Write METRIC>=VALUE"),
    ("intent_f1>0.9", "Write METRIC>=VALUE"),
    ("intent_f1>=high", "is not a number"),
    ("intent_f1>=90", "between 0 and 1"),
    ("intent_f1>=nan", "between 0 and 1"),
    ("intentf1>=0.9", "neither a short metric name nor a dotted path"),
    ("nlu..accuracy>=0.5", "is not a dotted path"),
])
def test_parse_minimum_rejects_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_minimum(text)


def test_settings_are_configured_only_when_a_gate_is_set() -> None:
    assert not GateSettings().configured
    assert GateSettings(minimums=((INTENT_F1, 0.9),)).configured
    assert GateSettings(max_drop=0.0).configured
    assert GateSettings(fail_on_failed_stories=True).configured


# -- minimums -------------------------------------------------------------------------------

def test_minimum_passes_at_and_above_the_threshold(report: dict) -> None:
    value = report["nlu"]["intent_classification"]["weighted_avg"]["f1_score"]
    [gate] = evaluate_gates(report, None, GateSettings(minimums=((INTENT_F1, value),)))
    assert gate.passed and gate.value == value and gate.threshold == value
    assert gate.name == f"min {INTENT_F1}" and gate.kind == "min"
    assert "meets the minimum" in gate.message


def test_minimum_fails_below_the_threshold(report: dict) -> None:
    low = with_value(report, f"{INTENT_F1}", 0.8)
    [gate] = evaluate_gates(low, None, GateSettings(minimums=((INTENT_F1, 0.9),)))
    assert not gate.passed
    assert gate.message == f"{INTENT_F1} is 0.8000, which is below the minimum 0.9000."


def test_minimum_on_a_task_that_was_not_evaluated_fails_without_crashing(report: dict) -> None:
    no_responses = with_value(report, "nlu.response_selection", None)
    settings = GateSettings(minimums=(parse_minimum("response_f1>=0.5"),))
    [gate] = evaluate_gates(no_responses, None, settings)
    assert not gate.passed and gate.value is None
    assert "'nlu.response_selection' is null: that task was not evaluated" in gate.message


def test_minimum_on_an_unknown_extractor_names_the_ones_there(report: dict) -> None:
    path = "nlu.entity_extraction.CRFEntityExtractor.weighted_avg.f1_score"
    [gate] = evaluate_gates(report, None, GateSettings(minimums=((path, 0.5),)))
    assert not gate.passed
    extractors = ", ".join(sorted(report["nlu"]["entity_extraction"]))
    assert (f"the report has no 'nlu.entity_extraction.CRFEntityExtractor' (there: {extractors})"
            in gate.message)


# -- max drop -------------------------------------------------------------------------------

def test_max_drop_fails_when_a_headline_metric_falls_too_far(report: dict) -> None:
    value = report["nlu"]["intent_classification"]["weighted_avg"]["f1_score"]
    baseline = with_value(report, INTENT_F1, value + 0.05)
    gates = evaluate_gates(report, baseline, GateSettings(max_drop=0.02))
    failed = [gate for gate in gates if not gate.passed]
    assert [gate.metric for gate in failed] == [INTENT_F1]
    assert failed[0].baseline == pytest.approx(value + 0.05)
    assert "fell by 0.0500" in failed[0].message
    assert "more than the allowed 0.0200" in failed[0].message
    assert len(gates) > 1 and all(gate.kind == "max_drop" for gate in gates)


def test_max_drop_passes_within_the_allowance(report: dict) -> None:
    value = report["nlu"]["intent_classification"]["weighted_avg"]["f1_score"]
    baseline = with_value(report, INTENT_F1, value + 0.02)  # exactly the allowance
    gates = evaluate_gates(report, baseline, GateSettings(max_drop=0.02))
    assert gates and all(gate.passed for gate in gates)


def test_max_drop_without_baseline_is_skipped_not_failed(report: dict) -> None:
    [gate] = evaluate_gates(report, None, GateSettings(max_drop=0.02))
    assert gate.passed and gate.skipped and "no baseline" in gate.message


def test_max_drop_ignores_tasks_the_baseline_did_not_evaluate(report: dict) -> None:
    baseline = with_value(report, "nlu.intent_classification", None)
    gates = evaluate_gates(report, baseline, GateSettings(max_drop=0.0))
    metrics = {gate.metric for gate in gates}
    assert INTENT_F1 not in metrics and metrics


# -- failed stories -------------------------------------------------------------------------

def test_failed_stories_gate_fails_when_a_story_failed() -> None:
    failing = load("coffeebot-failed-story")
    [gate] = evaluate_gates(failing, None, GateSettings(fail_on_failed_stories=True))
    assert not gate.passed and gate.value >= 1 and "not allowed" in gate.message


def test_failed_stories_gate_passes_when_every_story_passed(report: dict) -> None:
    [gate] = evaluate_gates(report, None, GateSettings(fail_on_failed_stories=True))
    assert gate.passed and gate.value == 0


def test_failed_stories_gate_fails_when_core_tests_did_not_run(report: dict) -> None:
    [gate] = evaluate_gates(with_value(report, "core", None), None,
                            GateSettings(fail_on_failed_stories=True))
    assert not gate.passed and "has no core test results" in gate.message


def test_allowed_failed_stories_make_no_gate() -> None:
    assert evaluate_gates(load("coffeebot-failed-story"), None, GateSettings()) == []


# -- through the CLI ------------------------------------------------------------------------

def write(tmp_path: Path, name: str, data: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_cli_exits_0_when_every_gate_passes(tmp_path: Path, report: dict,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "report.json", report)
    code = main(["summary", path, "--no-comment", "--min", "intent_f1>=0.1",
                 "--max-drop", "0.5", "--baseline", path])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "error:" not in captured.err
    assert "✅ All" in (tmp_path / "summary.md").read_text(encoding="utf-8")


def test_cli_exits_1_with_the_reason_when_a_gate_fails(tmp_path: Path, report: dict,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "report.json", with_value(report, INTENT_F1, 0.5))
    code = main(["summary", path, "--no-comment", "--min", "intent_f1>=0.9"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.splitlines()[-2:] == [
        "error: 1 quality gate failed:",
        f"  - {INTENT_F1} is 0.5000, which is below the minimum 0.9000.",
    ]
    # The summary was still written, and says why.
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "❌ Failed" in summary and "❌ below the minimum 0.9" in summary


def test_cli_max_drop_against_a_baseline(tmp_path: Path, report: dict,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    value = report["nlu"]["intent_classification"]["weighted_avg"]["f1_score"]
    path = write(tmp_path, "report.json", report)
    baseline = write(tmp_path, "baseline.json", with_value(report, INTENT_F1, value + 0.1))
    code = main(["summary", path, "--no-comment", "--baseline", baseline, "--max-drop", "0.02"])
    captured = capsys.readouterr()
    assert code == 1
    assert f"{INTENT_F1} fell by 0.1000" in captured.err
    assert "❌ drop > 0.02" in (tmp_path / "summary.md").read_text(encoding="utf-8")


def test_cli_fail_on_failed_stories_from_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "report.json", load("coffeebot-failed-story"))
    # Without gate options, the summary shows the gates `run` recorded and does not re-judge.
    assert main(["summary", path, "--no-comment"]) == 0
    monkeypatch.setenv("CI_TOOLKIT_FAIL_ON_FAILED_STORIES", "true")
    assert main(["summary", path, "--no-comment"]) == 1
    assert "not allowed (--fail-on-failed-stories)" in capsys.readouterr().err


def test_cli_minimums_from_the_environment_in_any_separator(
        tmp_path: Path, report: dict, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "report.json", with_value(report, "core.conversations.accuracy", 0.5))
    monkeypatch.setenv("CI_TOOLKIT_MIN",
                       "intent_f1 >= 0.1, entity_f1>=0.1\nconversation_accuracy>=0.9")
    code = main(["summary", path, "--no-comment"])
    err = capsys.readouterr().err
    assert code == 1
    assert "1 quality gate failed" in err and "core.conversations.accuracy is 0.5000" in err


def test_cli_missing_baseline_is_a_warning(tmp_path: Path, report: dict,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "report.json", report)
    code = main(["summary", path, "--no-comment", "--baseline", str(tmp_path / "nope.json"),
                 "--max-drop", "0.01"])
    err = capsys.readouterr().err
    assert code == 0
    assert "warning: the baseline report" in err and "does not exist" in err


@pytest.mark.parametrize(("args", "message"), [
    (["--min", "intent_f1>=90"], "must be between 0 and 1"),
    (["--min", "accuracy>=0.9"], "neither a short metric name"),
    (["--max-drop", "2"], "--max-drop"),
])
def test_cli_bad_gate_options_exit_2(tmp_path: Path, report: dict, args: list[str], message: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "report.json", report)
    assert main(["summary", path, "--no-comment", *args]) == 2
    assert message in capsys.readouterr().err


def test_cli_malformed_baseline_exits_2(tmp_path: Path, report: dict,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "report.json", report)
    broken = tmp_path / "baseline.json"
    broken.write_text("{not json", encoding="utf-8")
    assert main(["summary", path, "--no-comment", "--baseline", str(broken)]) == 2
    assert "is not valid JSON" in capsys.readouterr().err


def test_cli_accepts_an_rtt_report_as_baseline(tmp_path: Path, report: dict,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    value = report["nlu"]["intent_classification"]["weighted_avg"]["f1_score"]
    rtt = {"default": {"config.yml": {"intent_classification": {
        "accuracy": 1.0, "weighted avg": {"precision": 1.0, "recall": 1.0, "f1-score": value + 0.2,
                                          "support": 10}}}}}
    path = write(tmp_path, "report.json", report)
    baseline = write(tmp_path, "rtt.json", rtt)
    assert main(["summary", path, "--no-comment", "--baseline", baseline, "--max-drop", "0.1"]) == 1
    assert f"{INTENT_F1} fell by 0.2000" in capsys.readouterr().err


# -- unreachable extractors --------------------------------------------------------------------

UNREACHABLE = {"name": "DucklingEntityExtractor", "unreachable": True,
               "reason": "the Duckling server at http://127.0.0.1:9 could not be reached (105 "
                         "connection errors)"}
PRETRAINED = {"name": "SpacyEntityExtractor", "reason": "pretrained: rasa does not score it",
              "unreachable": False}


def _unevaluated(section: str, *entries: dict) -> Callable[[dict], dict]:
    def change(report: dict) -> dict:
        changed = copy.deepcopy(report)
        changed[section]["unevaluated_extractors"] = list(entries)
        return changed
    return change


def _without_nlu(report: dict) -> dict:
    return {**report, "nlu": None, "cross_validation": None}


# case: (change to the real report, passed, skipped, value, message it must contain)
UNREACHABLE_CASES: dict[str, tuple[Callable[[dict], dict], bool, bool, int | None, str]] = {
    "every extractor worked": (lambda report: report, True, False, 0,
                               "every entity extractor of the pipeline could do its work"),
    "pretrained, not scored, but working": (_unevaluated("nlu", PRETRAINED), True, False, 0,
                                            "could do its work"),
    "duckling unreachable in the NLU test": (
        _unevaluated("nlu", UNREACHABLE, PRETRAINED), False, False, 1,
        "1 entity extractor could not be evaluated (DucklingEntityExtractor: the Duckling "
        "server at http://127.0.0.1:9 could not be reached (105 connection errors)), and "
        "unreachable extractors are not allowed (--fail-on-unreachable-extractors)"),
    "duckling unreachable only in cross-validation": (
        _unevaluated("cross_validation", UNREACHABLE), False, False, 1,
        "DucklingEntityExtractor: the Duckling server at http://127.0.0.1:9"),
    "no NLU results at all": (_without_nlu, True, True, None,
                              "not checked: neither the NLU test nor cross-validation ran"),
}


@pytest.mark.parametrize("case", sorted(UNREACHABLE_CASES))
def test_unreachable_extractors_gate(report: dict, case: str) -> None:
    change, passed, skipped, value, message = UNREACHABLE_CASES[case]
    [gate] = evaluate_gates(change(report), None,
                            GateSettings(fail_on_unreachable_extractors=True))
    assert (gate.kind, gate.metric) == ("unreachable_extractors", "nlu.unevaluated_extractors")
    assert (gate.passed, gate.skipped, gate.value) == (passed, skipped, value)
    assert message in gate.message


def test_unreachable_extractors_gate_is_off_by_default(report: dict) -> None:
    assert not GateSettings().configured
    assert GateSettings(fail_on_unreachable_extractors=True).configured
    assert evaluate_gates(_unevaluated("nlu", UNREACHABLE)(report), None, GateSettings()) == []


# case: (argv after the report, environment, exit code, text stderr must contain)
UNREACHABLE_CLI_CASES: dict[str, tuple[list[str], dict[str, str], int, str]] = {
    "option": (["--fail-on-unreachable-extractors"], {}, 1,
               "could not be reached (105 connection errors)"),
    "environment": ([], {"CI_TOOLKIT_FAIL_ON_UNREACHABLE_EXTRACTORS": "true"}, 1,
                    "1 quality gate failed"),
    "allowed by the option": (["--allow-unreachable-extractors"],
                              {"CI_TOOLKIT_FAIL_ON_UNREACHABLE_EXTRACTORS": "true"}, 0, ""),
    "not asked for": ([], {}, 0, ""),
}


@pytest.mark.parametrize("case", sorted(UNREACHABLE_CLI_CASES))
def test_cli_unreachable_extractors_gate(
        tmp_path: Path, report: dict, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], case: str) -> None:
    argv, environment, exit_code, message = UNREACHABLE_CLI_CASES[case]
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    path = write(tmp_path, "report.json", _unevaluated("nlu", UNREACHABLE)(report))
    assert main(["summary", path, "--no-comment", *argv]) == exit_code
    assert message in capsys.readouterr().err
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "DucklingEntityExtractor was not evaluated" in summary


def test_a_minimum_on_an_unevaluated_extractor_says_why_it_is_missing(report: dict) -> None:
    metric = "nlu.entity_extraction.DucklingEntityExtractor.weighted_avg.f1_score"
    [gate] = evaluate_gates(_unevaluated("nlu", UNREACHABLE)(report), None,
                            GateSettings(minimums=((metric, 0.5),)))
    assert not gate.passed
    assert ("DucklingEntityExtractor was not evaluated: the Duckling server at "
            "http://127.0.0.1:9 could not be reached") in gate.message
