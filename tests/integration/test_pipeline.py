"""`ci-toolkit run` with real rasa on the example assistant and on broken copies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci_toolkit.report.model import SCHEMA_VERSION
from tests import project_changes
from tests.integration.pipeline_runs import CliRun, ci_toolkit
from tests.rasa_support import copy_example

pytestmark = [pytest.mark.rasa, pytest.mark.slow]


def test_every_stage_passes_on_the_example(full_run: tuple[Path, CliRun]) -> None:
    _, run = full_run
    assert run.exit_code == 0, run.output[-3000:]
    report = run.report
    assert report["schema_version"] == SCHEMA_VERSION == 2
    assert report["verdict"] == "passed"
    assert [(s["name"], s["status"]) for s in report["stages"]] == [
        ("validate", "passed"), ("train", "passed"), ("test_core", "passed"),
        ("test_nlu", "passed"), ("cross_validate", "passed")]
    assert run.ran() == {"validate", "train", "test_core", "test_nlu", "cross_validate"}
    assert all(s["duration_s"] > 0 for s in report["stages"])
    # Every stage kept its own log.
    for stage in report["stages"]:
        assert Path(stage["log_file"]).is_file()


def test_report_holds_every_task(full_run: tuple[Path, CliRun]) -> None:
    import jsonschema

    from ci_toolkit.resources import package_template_dir

    _, run = full_run
    report = run.report
    schema = json.loads((package_template_dir().parent / "schemas" / "report.schema.json").read_text())
    jsonschema.validate(report, schema)
    assert Path(report["model"]["path"]).is_file()
    assert report["model"]["source"] == "trained"

    assert report["validation"]["errors"] == []
    assert {f["code"] for f in report["validation"]["warnings"]} >= {"unused_intent"}

    nlu = report["nlu"]
    intents = nlu["intent_classification"]
    assert {"greet", "order_drink", "faq"} <= set(intents["labels"])
    assert 0 < intents["weighted_avg"]["f1_score"] <= 1
    assert "CRFEntityExtractor" in nlu["entity_extraction"]
    assert {"drink", "size"} <= set(nlu["entity_extraction"]["CRFEntityExtractor"]["labels"])
    assert {"faq/wifi", "faq/opening_hours"} <= set(nlu["response_selection"]["labels"])

    core = report["core"]
    assert core["conversations"]["total"] == 6
    assert core["story_prediction"]["labels"]

    cross = report["cross_validation"]
    assert cross["folds"] == 2
    test_f1 = cross["intent_classification"]["test"]["f1_score"]
    assert 0 < test_f1["mean"] <= 1 and test_f1["std"] >= 0
    assert cross["intent_classification"]["pooled"]["labels"]
    assert "CRFEntityExtractor" in cross["entity_extraction"]

    assert any(image.endswith("intent_confusion_matrix.png") for image in report["artifacts"]["images"])


def test_rtt_view_keeps_existing_from_json_gates_working(full_run: tuple[Path, CliRun]) -> None:
    project, run = full_run
    rtt = json.loads((project / "reports" / "report-rtt.json").read_text())
    assert rtt == run.report["rtt"]
    tasks = rtt["default"]["config.yml"]
    assert set(tasks) == {"intent_classification", "entity_prediction", "response_selection",
                          "story_prediction"}
    assert 0 < tasks["intent_classification"]["accuracy"] <= 1
    assert set(tasks["intent_classification"]["weighted_avg"]) == {"precision", "recall", "f1-score", "support"}


def test_terminal_ends_with_the_stage_table(full_run: tuple[Path, CliRun]) -> None:
    _, run = full_run
    tail = run.stdout.strip().splitlines()[-8:]
    assert tail[0].split()[:4] == ["stage", "status", "time", "result"]
    assert any(line.startswith("cross-validate") and "intent F1" in line for line in tail)
    assert tail[-1].startswith("verdict: PASSED")


def test_broken_domain_fails_validation_and_skips_the_rest(tmp_path: Path) -> None:
    project = copy_example(tmp_path / "bot")
    project_changes.break_domain(project)
    run = ci_toolkit(project, "--no-cache")
    assert run.exit_code == 1
    report = run.report
    assert report["verdict"] == "failed"
    assert run.stage("validate")["status"] == "failed"
    assert run.stage("validate")["reason"] == "1 validation error"
    [error] = report["validation"]["errors"]
    assert error["code"] == "form_slot_missing" and error["file"] == "domain.yml"
    assert run.stage("train") == {**run.stage("train"), "status": "skipped", "reason": "validate failed"}
    assert any(line.startswith("validate") and "failed" in line for line in run.output.splitlines())
