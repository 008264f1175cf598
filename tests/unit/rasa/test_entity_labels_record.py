"""The worker's record of the token labels rasa's entity evaluation scores
(ci_toolkit/rasa/evaluator_worker.py::_record_entity_labels), with a stand-in for rasa's
rasa/nlu/test.py that keeps its label functions' behaviour. That the recorded labels give
rasa's own entity report is proved with real rasa in
tests/integration/test_sharded_cross_validation.py."""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

WORKER = Path(__file__).resolve().parents[3] / "ci_toolkit" / "rasa" / "evaluator_worker.py"


def _stand_in_nlu_test(calls: list[str]) -> types.ModuleType:
    module = types.ModuleType("rasa.nlu.test")
    module.NO_ENTITY = "no_entity"  # type: ignore[attr-defined]

    def align_all_entity_predictions(results: list[Any], extractors: set[str]) -> list[Any]:
        return results  # here each result is already aligned: {"target_labels", ...}

    def merge_labels(aligned: list[dict[str, Any]], extractor: str | None = None
                     ) -> list[str]:
        key = "target_labels" if extractor is None else extractor
        return [label for entry in aligned for label in entry[key]]

    def substitute_labels(labels: list[str], old: str, new: str) -> list[str]:
        return [new if label == old else label for label in labels]

    def evaluate_entities(results: list[Any], extractors: set[str], *args: Any,
                          **kwargs: Any) -> str:
        calls.append(f"rasa's evaluate_entities {sorted(extractors)}")
        return "rasa's result"

    for function in (align_all_entity_predictions, merge_labels, substitute_labels,
                     evaluate_entities):
        setattr(module, function.__name__, function)
    return module


@pytest.fixture
def nlu_test(monkeypatch: pytest.MonkeyPatch) -> tuple[types.ModuleType, list[str]]:
    calls: list[str] = []
    module = _stand_in_nlu_test(calls)
    constants = types.ModuleType("rasa.shared.nlu.constants")
    constants.NO_ENTITY_TAG = "O"  # type: ignore[attr-defined]
    nlu = types.ModuleType("rasa.nlu")
    nlu.test = module  # type: ignore[attr-defined]
    for name, stand_in in {"rasa": types.ModuleType("rasa"), "rasa.nlu": nlu,
                           "rasa.nlu.test": module,
                           "rasa.shared": types.ModuleType("rasa.shared"),
                           "rasa.shared.nlu": types.ModuleType("rasa.shared.nlu"),
                           "rasa.shared.nlu.constants": constants}.items():
        monkeypatch.setitem(sys.modules, name, stand_in)
    spec = importlib.util.spec_from_file_location("evaluator_worker_under_test", WORKER)
    assert spec is not None and spec.loader is not None
    worker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(worker)
    worker._record_entity_labels()
    return module, calls


RESULTS = [{"target_labels": ["O", "city"], "CRFEntityExtractor": ["city", "city"],
            "DIETClassifier": ["O", "O"]},
           {"target_labels": ["drink"], "CRFEntityExtractor": ["drink"],
            "DIETClassifier": ["O"]}]


def test_the_labels_rasa_scores_are_written_before_rasa_evaluates(
        nlu_test: tuple[types.ModuleType, list[str]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    module, calls = nlu_test
    target = tmp_path / "labels.json"
    monkeypatch.setenv("CI_TOOLKIT_ENTITY_LABELS", str(target))
    extractors = {"DIETClassifier", "CRFEntityExtractor"}
    assert module.evaluate_entities(RESULTS, extractors, "out", True) == "rasa's result"
    assert calls == ["rasa's evaluate_entities ['CRFEntityExtractor', 'DIETClassifier']"]
    targets = ["no_entity", "city", "drink"]
    assert json.loads(target.read_text()) == {"no_entity": "no_entity", "extractors": {
        "CRFEntityExtractor": {"targets": targets, "predictions": ["city", "city", "drink"]},
        "DIETClassifier": {"targets": targets,
                           "predictions": ["no_entity", "no_entity", "no_entity"]}}}


def test_without_the_variable_nothing_is_written(
        nlu_test: tuple[types.ModuleType, list[str]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    module, calls = nlu_test
    monkeypatch.delenv("CI_TOOLKIT_ENTITY_LABELS", raising=False)
    assert module.evaluate_entities(RESULTS, {"DIETClassifier"}) == "rasa's result"
    assert calls == ["rasa's evaluate_entities ['DIETClassifier']"]
    assert list(tmp_path.iterdir()) == []
