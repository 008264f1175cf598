"""Parse the files rasa writes into the typed results of report.json.

Shapes: docs/architecture.md ("How rasa behaves"), docs/report-schema.md, and the real
rasa output under tests/fixtures/rasa/.
Missing files are normal (a task that was not evaluated) and give ``None``; files that exist
but cannot be read are an error, never silently skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ci_toolkit.errors import ToolkitError
from ci_toolkit.rasa.extractors import unevaluated_extractors

AVERAGES = ("micro avg", "macro avg", "weighted avg")
NOT_LABELS = {*AVERAGES, "accuracy", "conversation_accuracy"}
# Reports in the NLU results directory that are not entity extractors.
NON_ENTITY_REPORTS = {"intent_report.json", "response_selection_report.json", "story_report.json"}
_CV_LINE = re.compile(
    r"rasa\.nlu\.test\s+- (train|test) (Accuracy|F1-score|Precision): ([0-9.]+) \(([0-9.]+)\)"
)
_CV_SECTION = re.compile(
    r"rasa\.(?:model_testing|nlu\.test)\s+- (Intent evaluation results|Entity evaluation results|"
    r"Response Selection evaluation results|Entity extractor: (\S+))"
)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ToolkitError(f"Could not read rasa's result file {path}: {error}.") from error


def _metrics(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    return {
        "precision": raw.get("precision"),
        "recall": raw.get("recall"),
        "f1_score": raw.get("f1-score"),
        "support": raw.get("support"),
    }


def classification_from_raw(raw: Any) -> dict[str, Any] | None:
    """sklearn's classification report as completed by rasa -> the report's Classification."""
    if not isinstance(raw, dict) or not raw:
        return None  # rasa writes {} when there were no labels to evaluate
    labels: dict[str, Any] = {}
    for name, value in raw.items():
        if name in NOT_LABELS or not isinstance(value, dict):
            continue
        entry = _metrics(value) or {}
        entry["confused_with"] = dict(value.get("confused_with") or {})
        labels[name] = entry
    accuracy = raw.get("accuracy")
    return {
        "accuracy": accuracy if isinstance(accuracy, (int, float)) else None,
        "micro_avg": _metrics(raw.get("micro avg")),
        "macro_avg": _metrics(raw.get("macro avg")),
        "weighted_avg": _metrics(raw.get("weighted avg")),
        "labels": labels,
    }


def read_classification(path: Path) -> dict[str, Any] | None:
    return classification_from_raw(read_json(path)) if path.is_file() else None


def entity_reports(results: Path) -> dict[str, dict[str, Any]]:
    """Every `<Extractor>_report.json`, whatever the extractor (RTT only knew DIET)."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(results.glob("*_report.json")):
        if path.name in NON_ENTITY_REPORTS or path.name.startswith("TEDPolicy"):
            continue
        parsed = read_classification(path)
        if parsed is not None:
            found[path.name.removesuffix("_report.json")] = parsed
    return found


def parse_nlu_results(results: Path, *, config: Path | None = None,
                      log_text: str = "") -> dict[str, Any]:
    """The NLU reports in ``results``; with the model ``config`` and what rasa printed, also
    the extractors rasa did not score (ci_toolkit/rasa/extractors.py)."""
    return {
        "intent_classification": read_classification(results / "intent_report.json"),
        "entity_extraction": entity_reports(results),
        "response_selection": read_classification(results / "response_selection_report.json"),
        "unevaluated_extractors": unevaluated_extractors(config, log_text),
    }


def parse_core_results(results: Path, *, project_root: Path) -> dict[str, Any]:
    from ci_toolkit.rasa.failed_stories import parse_failed_stories

    story_path = results / "story_report.json"
    raw = read_json(story_path) if story_path.is_file() else None
    conversations = None
    if isinstance(raw, dict) and isinstance(raw.get("conversation_accuracy"), dict):
        conv = raw["conversation_accuracy"]
        conversations = {
            "accuracy": conv.get("accuracy"),
            "correct": conv.get("correct"),
            "total": conv.get("total"),
            "with_warnings": conv.get("with_warnings", 0),
        }
    failed_path = results / "failed_test_stories.yml"
    failed = (
        parse_failed_stories(failed_path.read_text(encoding="utf-8"), project_root=project_root)
        if failed_path.is_file()
        else []
    )
    return {
        "story_prediction": classification_from_raw(raw),
        "conversations": conversations,
        "failed_stories": failed,
    }


def parse_cross_validation_log(text: str) -> dict[str, dict[str, Any]]:
    """Mean and std per fold set from the lines rasa logs after cross-validation.

    Returns {task_key: {"train": {metric: {mean, std}}, "test": {...}}}, where task_key is
    "intent_classification", "response_selection" or "entity:<Extractor>".
    """
    results: dict[str, dict[str, Any]] = {}
    task: str | None = None
    for line in text.splitlines():
        section = _CV_SECTION.search(line)
        if section:
            title, extractor = section.group(1), section.group(2)
            if extractor:
                task = f"entity:{extractor}"
            elif title.startswith("Intent"):
                task = "intent_classification"
            elif title.startswith("Response"):
                task = "response_selection"
            else:
                task = None  # the extractor name follows on its own line
            continue
        metric = _CV_LINE.search(line)
        if metric and task:
            split, name, mean, std = metric.groups()
            key = {"Accuracy": "accuracy", "F1-score": "f1_score", "Precision": "precision"}[name]
            entry = results.setdefault(task, {"train": {}, "test": {}})
            entry[split][key] = {"mean": float(mean), "std": float(std)}
    return results


def parse_cross_validation(results: Path, *, log_text: str, folds: int,
                           config: Path | None = None) -> dict[str, Any]:
    pooled = parse_nlu_results(results, config=config, log_text=log_text)
    stats = parse_cross_validation_log(log_text)

    def combine(report: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
        if report is None and key not in stats:
            return None
        entry = stats.get(key, {"train": {}, "test": {}})
        return {"pooled": report, "train": entry["train"], "test": entry["test"]}

    entities = {
        name: combine(report, f"entity:{name}")
        for name, report in pooled["entity_extraction"].items()
    }
    return {
        "folds": folds,
        "intent_classification": combine(pooled["intent_classification"], "intent_classification"),
        "entity_extraction": entities,
        "response_selection": combine(pooled["response_selection"], "response_selection"),
        "unevaluated_extractors": pooled["unevaluated_extractors"],
    }


def images(results: Path, only: Iterable[Path] | None = None) -> list[Path]:
    """rasa's pictures under ``results``; with ``only``, under those directories alone (the
    ones a run wrote: an earlier run's pictures are not this run's artifacts)."""
    roots = [results] if only is None else [d for d in only if d.is_dir()]
    return sorted(p for root in roots for p in root.rglob("*.png"))
