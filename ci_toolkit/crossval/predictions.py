"""Read one fold's predictions and metrics from the files `rasa test nlu` wrote.

With ``--successes`` (and errors, written by default) rasa lists every evaluated example in
exactly one of ``*_successes.json`` and ``*_errors.json``; together they are the fold's
predictions. A file rasa did not write means an empty list: rasa writes no errors file when
every prediction was right, and no successes file when none was (docs/architecture.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ci_toolkit.crossval.classification import fold_metrics
from ci_toolkit.crossval.shard_report import token_labels_problem
from ci_toolkit.errors import ToolkitError
from ci_toolkit.rasa.reports import NON_ENTITY_REPORTS, read_json


def _records(results: Path, prefix: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for suffix in ("successes", "errors"):
        path = results / f"{prefix}_{suffix}.json"
        if not path.is_file():
            continue
        content = read_json(path)
        if not isinstance(content, list) or not all(isinstance(r, dict) for r in content):
            raise ToolkitError(f"rasa's {path} is not a list of predictions. Run the shard "
                               "again; if it persists, the rasa version is not supported.")
        records.extend(content)
    return records


# Written by the model evaluator's worker beside rasa's files (evaluator_worker.py).
ENTITY_LABELS_FILE = "ci-toolkit-entity-labels.json"


def entity_token_labels(results: Path) -> dict[str, Any] | None:
    """Per entity extractor, the per-token gold and predicted labels rasa scored (``{"no_entity":
    LABEL, "extractors": {NAME: {"targets": [...], "predictions": [...]}}}``), or None when
    rasa ran outside the model evaluator and they were not recorded."""
    path = results / ENTITY_LABELS_FILE
    if not path.is_file():
        return None
    content = read_json(path)
    problem = token_labels_problem(content)
    if problem is not None:
        raise ToolkitError(f"{path}: the entity token labels{problem[0]} {problem[1]}. Run "
                           "the shard again.")
    extractors = content["extractors"]
    return {"no_entity": content["no_entity"], "extractors": extractors}


def _label(prediction: Any) -> tuple[str, float | None]:
    if not isinstance(prediction, dict):
        return "", None
    # rasa scores a missing prediction as the empty label (remove_empty_intent_examples).
    name = prediction.get("name") or ""
    confidence = prediction.get("confidence")
    return str(name), float(confidence) if isinstance(confidence, (int, float)) else None


def intent_predictions(results: Path) -> list[dict[str, Any]]:
    predictions = []
    for record in _records(results, "intent"):
        name, confidence = _label(record.get("intent_prediction"))
        predictions.append({"text": record.get("text", ""), "intent": record.get("intent", ""),
                            "predicted_intent": name, "confidence": confidence})
    return sorted(predictions, key=lambda p: (p["intent"], p["text"]))


def response_predictions(results: Path) -> list[dict[str, Any]]:
    predictions = []
    for record in _records(results, "response_selection"):
        name, confidence = _label(record.get("intent_response_key_prediction"))
        predictions.append({"text": record.get("text", ""),
                            "response_key": record.get("intent_response_key_target", ""),
                            "predicted_response_key": name, "confidence": confidence})
    return sorted(predictions, key=lambda p: (p["response_key"], p["text"]))


def _extractors(results: Path) -> list[str]:
    return sorted(path.name.removesuffix("_report.json")
                  for path in results.glob("*_report.json")
                  if path.name not in NON_ENTITY_REPORTS and not path.name.startswith("TEDPolicy"))


def entity_predictions(results: Path) -> dict[str, list[dict[str, Any]]]:
    """Per entity extractor, the examples with gold or predicted entities, as rasa wrote them."""
    found = {}
    for extractor in _extractors(results):
        records = [{"text": r.get("text", ""), "entities": r.get("entities") or [],
                    "predicted_entities": r.get("predicted_entities") or []}
                   for r in _records(results, extractor)]
        found[extractor] = sorted(records, key=lambda r: r["text"])
    return found


def _metrics_of(path: Path) -> dict[str, float] | None:
    if not path.is_file():
        return None
    report = read_json(path)
    return fold_metrics(report) if isinstance(report, dict) and report else None


def task_metrics(results: Path) -> dict[str, Any]:
    """The fold's accuracy, weighted F1 and weighted precision per task, the numbers rasa's
    cross-validation logs per fold (rasa/nlu/test.py::_compute_metrics)."""
    entities = {name: _metrics_of(results / f"{name}_report.json")
                for name in _extractors(results)}
    return {
        "intent_classification": _metrics_of(results / "intent_report.json"),
        "response_selection": _metrics_of(results / "response_selection_report.json"),
        "entity_extraction": {name: m for name, m in entities.items() if m is not None},
    }
