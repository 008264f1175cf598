"""report.json assembly helpers, on the real reports of the example."""

from __future__ import annotations

import json

from ci_toolkit.pipeline.result_table import render_table
from ci_toolkit.report.build import rtt_view as rtt_view_of
from ci_toolkit.report.model import Report
from tests import paths

REPORTS = paths.FIXTURES / "reports"


def rtt_view(report: dict) -> dict:
    return rtt_view_of(Report.from_dict(report))


def _report(name: str) -> dict:
    return json.loads((REPORTS / f"{name}.json").read_text())


def test_rtt_view_has_rtts_shape_and_rasas_key_names() -> None:
    report = _report("coffeebot")
    view = rtt_view(report)
    assert list(view) == ["default"]
    assert list(view["default"]) == ["config.yml"]
    tasks = view["default"]["config.yml"]
    assert tasks["intent_classification"]["accuracy"] == report["nlu"]["intent_classification"]["accuracy"]
    assert tasks["entity_prediction"]["weighted_avg"]["f1-score"] == \
        report["nlu"]["entity_extraction"]["DIETClassifier"]["weighted_avg"]["f1_score"]
    assert tasks["story_prediction"]["micro_avg"]["support"] == \
        report["core"]["story_prediction"]["micro_avg"]["support"]
    assert view == report["rtt"]


def test_rtt_view_leaves_out_tasks_that_did_not_run() -> None:
    report = _report("coffeebot")
    report["nlu"] = None
    report["cross_validation"] = None
    assert set(rtt_view(report)["default"]["config.yml"]) == {"story_prediction"}


def test_rtt_view_falls_back_to_cross_validation_reports_like_rtt() -> None:
    report = _report("coffeebot")
    report["nlu"] = None
    tasks = rtt_view(report)["default"]["config.yml"]
    pooled = report["cross_validation"]["intent_classification"]["pooled"]
    assert tasks["intent_classification"]["accuracy"] == pooled["accuracy"]


def test_terminal_table_lists_stages_cache_and_failed_gates() -> None:
    table = render_table(Report.from_dict(_report("coffeebot-failed-story")), report_path="reports/report.json")
    lines = table.splitlines()
    assert lines[0].split() == ["stage", "status", "time", "result"]
    assert lines[2].startswith("validate") and "cached" in lines[2] and "saved" in lines[2]
    core = next(line for line in lines if line.startswith("test core"))
    assert "passed" in core and "stories 6/7" in core and "1 of 7 test stories failed" in core
    assert any(line.startswith("gate failed: 1 test story failed") for line in lines)
    assert lines[-1].startswith("verdict: FAILED") and lines[-1].endswith("report: reports/report.json")
