"""report.json assembly helpers, on the real reports of the example."""

from __future__ import annotations

import json

import pytest

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
    report["cross_validation"] = None  # the plain test's numbers (CV: the tests below)
    view = rtt_view(report)
    assert list(view) == ["default"]
    assert list(view["default"]) == ["config.yml"]
    tasks = view["default"]["config.yml"]
    assert tasks["intent_classification"]["accuracy"] == report["nlu"]["intent_classification"]["accuracy"]
    assert tasks["entity_prediction"]["weighted_avg"]["f1-score"] == \
        report["nlu"]["entity_extraction"]["DIETClassifier"]["weighted_avg"]["f1_score"]
    assert tasks["story_prediction"]["micro_avg"]["support"] == \
        report["core"]["story_prediction"]["micro_avg"]["support"]


def test_rtt_view_leaves_out_tasks_that_did_not_run() -> None:
    report = _report("coffeebot")
    report["nlu"] = None
    report["cross_validation"] = None
    assert set(rtt_view(report)["default"]["config.yml"]) == {"story_prediction"}


def _drop_cv_task(task: str, entity: bool = False):
    def change(report: dict) -> None:
        cross = report["cross_validation"]
        if entity:
            cross["entity_extraction"] = {}
        else:
            cross[task] = None
    return change


CV = "cross_validation"
# (case, change to the coffeebot report, RTT task, where its numbers must come from)
RTT_SOURCES = [
    ("with CV, intents are CV's pooled", None, "intent_classification",
     (CV, "intent_classification", "pooled")),
    ("with CV, entities are CV's pooled DIETClassifier", None, "entity_prediction",
     (CV, "entity_extraction", "DIETClassifier", "pooled")),
    ("with CV, responses are CV's pooled", None, "response_selection",
     (CV, "response_selection", "pooled")),
    ("with CV, stories are still the core test's", None, "story_prediction",
     ("core", "story_prediction")),
    ("CV only (no plain NLU test)", lambda r: r.update(nlu=None), "intent_classification",
     (CV, "intent_classification", "pooled")),
    ("no CV: the plain test's intents", lambda r: r.update(cross_validation=None),
     "intent_classification", ("nlu", "intent_classification")),
    ("CV without responses: the plain test's", _drop_cv_task("response_selection"),
     "response_selection", ("nlu", "response_selection")),
    ("CV without entities: the plain test's", _drop_cv_task("", entity=True),
     "entity_prediction", ("nlu", "entity_extraction", "DIETClassifier")),
]


@pytest.mark.parametrize(("case", "change", "task", "source"), RTT_SOURCES,
                         ids=[case for case, *_ in RTT_SOURCES])
def test_rtt_view_holds_the_cross_validation_numbers_like_rtt(case: str, change, task: str,
                                                              source: tuple[str, ...]) -> None:
    report = _report("coffeebot")
    if change is not None:
        change(report)
    expected = report
    for key in source:
        expected = expected[key]
    got = rtt_view(report)["default"]["config.yml"][task]
    assert got["accuracy"] == expected["accuracy"], case
    assert got["weighted_avg"]["f1-score"] == expected["weighted_avg"]["f1_score"], case


def test_the_coffeebot_fixture_differs_between_test_and_cv() -> None:
    # Guards the table above: the two sources must really tell apart.
    report = _report("coffeebot")
    for task in ("intent_classification", "response_selection"):
        assert report["nlu"][task]["weighted_avg"] != report[CV][task]["pooled"]["weighted_avg"]
    assert report["nlu"]["entity_extraction"]["DIETClassifier"]["weighted_avg"] != \
        report[CV]["entity_extraction"]["DIETClassifier"]["pooled"]["weighted_avg"]


def test_terminal_table_lists_stages_cache_and_failed_gates() -> None:
    table = render_table(Report.from_dict(_report("coffeebot-failed-story")), report_path="reports/report.json")
    lines = table.splitlines()
    assert lines[0].split() == ["stage", "status", "time", "result"]
    assert lines[2].startswith("validate") and "cached" in lines[2] and "saved" in lines[2]
    core = next(line for line in lines if line.startswith("test core"))
    assert "passed" in core and "stories 6/7" in core and "1 of 7 test stories failed" in core
    assert any(line.startswith("gate failed: 1 test story failed") for line in lines)
    assert lines[-1].startswith("verdict: FAILED") and lines[-1].endswith("report: reports/report.json")
