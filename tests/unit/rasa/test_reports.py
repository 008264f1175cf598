"""Parsing of real rasa result files (tests/fixtures/rasa, produced by rasa 3.6.21)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_toolkit.errors import ToolkitError
from ci_toolkit.rasa import reports
from tests import paths

FIXTURES = paths.FIXTURES / "rasa"
EXAMPLE = paths.EXAMPLE


def test_story_report_and_failed_stories_from_a_run_with_failures() -> None:
    core = reports.parse_core_results(FIXTURES / "core-failed-stories", project_root=EXAMPLE)

    assert core["conversations"] == {"accuracy": pytest.approx(4 / 6), "correct": 4, "total": 6,
                                     "with_warnings": 0}
    story = core["story_prediction"]
    assert story["accuracy"] == pytest.approx(0.8333, abs=1e-4)
    assert story["weighted_avg"]["f1_score"] == pytest.approx(0.8708, abs=1e-4)
    assert "action_place_order" in story["labels"]
    assert "conversation_accuracy" not in story["labels"]

    failed = core["failed_stories"]
    assert [s["name"] for s in failed] == [
        "order a drink in one go and confirm", "order a drink step by step, then cancel"]
    first = failed[0]
    assert first["file"] == "tests/test_stories.yml"
    assert first["failed_step"] == {"index": 12, "kind": "action", "expected": "action_place_order",
                                    "predicted": "action_default_fallback", "text": None}
    # The line of the story in the example's test file, for an annotation on the diff.
    lines = (EXAMPLE / "tests" / "test_stories.yml").read_text().splitlines()
    assert "order a drink in one go and confirm" in lines[first["line"] - 1]


def test_ted_entity_report_in_core_results_is_not_an_nlu_extractor() -> None:
    assert reports.entity_reports(FIXTURES / "core-failed-stories") == {}


def test_empty_report_means_not_evaluated() -> None:
    assert reports.classification_from_raw({}) is None


def test_unreadable_result_file_is_an_error_not_a_silent_skip(tmp_path: Path) -> None:
    (tmp_path / "intent_report.json").write_text("{not json")
    with pytest.raises(ToolkitError, match=r"intent_report\.json"):
        reports.parse_nlu_results(tmp_path)


def test_missing_files_give_none(tmp_path: Path) -> None:
    assert reports.parse_nlu_results(tmp_path) == {
        "intent_classification": None, "entity_extraction": {}, "response_selection": None,
        "unevaluated_extractors": []}
    core = reports.parse_core_results(tmp_path, project_root=tmp_path)
    assert core == {"story_prediction": None, "conversations": None, "failed_stories": []}


def test_nlu_reports_intents_entities_and_responses() -> None:
    nlu = reports.parse_nlu_results(FIXTURES / "nlu")
    intents = nlu["intent_classification"]
    assert intents["accuracy"] == 1.0
    assert intents["weighted_avg"] == {"precision": 1.0, "recall": 1.0, "f1_score": 1.0, "support": 105}
    assert intents["labels"]["greet"]["confused_with"] == {}
    assert set(nlu["entity_extraction"]) == {"DIETClassifier"}
    assert {"drink", "size"} <= set(nlu["entity_extraction"]["DIETClassifier"]["labels"])
    assert {"faq/wifi", "faq/opening_hours", "faq/plant_milk"} == set(nlu["response_selection"]["labels"])
    assert [p.name for p in reports.images(FIXTURES / "nlu")] == ["intent_confusion_matrix.png"]


def test_cross_validation_pooled_reports_and_fold_statistics() -> None:
    folder = FIXTURES / "cross-validation"
    cross = reports.parse_cross_validation(folder, log_text=(folder / "log.txt").read_text(), folds=3)
    assert cross["folds"] == 3
    intents = cross["intent_classification"]
    assert intents["train"]["accuracy"] == {"mean": 0.995, "std": 0.007}
    assert intents["test"] == {"accuracy": {"mean": 0.667, "std": 0.036},
                               "f1_score": {"mean": 0.648, "std": 0.036},
                               "precision": {"mean": 0.701, "std": 0.021}}
    assert intents["pooled"]["labels"]["greet"]["support"] > 0
    diet = cross["entity_extraction"]["DIETClassifier"]
    assert diet["test"]["f1_score"] == {"mean": 0.839, "std": 0.066}
    assert diet["train"]["precision"] == {"mean": 0.99, "std": 0.015}
    assert cross["response_selection"]["test"]["accuracy"] == {"mean": 0.833, "std": 0.136}
