"""Find metrics in a report.json: dotted paths, short aliases and the headline metrics.

A metric is named by its dotted path from the root of report.json, for example
``nlu.intent_classification.weighted_avg.f1_score``. Users may leave out the ``nlu.`` /
``core.`` prefix, write rasa's spelling (``f1-score``, ``weighted avg``) or use a short alias
(``intent_f1``). Gates and the summary share this one vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ci_toolkit.report.model import Report

# Short names for the metrics people gate on most. Entity aliases name DIETClassifier, the
# extractor of rasa's default pipeline; other extractors are named by their full path.
ALIASES: dict[str, str] = {
    "intent_accuracy": "nlu.intent_classification.accuracy",
    "intent_f1": "nlu.intent_classification.weighted_avg.f1_score",
    "intent_macro_f1": "nlu.intent_classification.macro_avg.f1_score",
    "entity_f1": "nlu.entity_extraction.DIETClassifier.weighted_avg.f1_score",
    "entity_micro_f1": "nlu.entity_extraction.DIETClassifier.micro_avg.f1_score",
    "entity_precision": "nlu.entity_extraction.DIETClassifier.weighted_avg.precision",
    "entity_recall": "nlu.entity_extraction.DIETClassifier.weighted_avg.recall",
    "response_accuracy": "nlu.response_selection.accuracy",
    "response_f1": "nlu.response_selection.weighted_avg.f1_score",
    "conversation_accuracy": "core.conversations.accuracy",
    "action_accuracy": "core.story_prediction.accuracy",
    "action_f1": "core.story_prediction.weighted_avg.f1_score",
    "cv_intent_accuracy": "cross_validation.intent_classification.test.accuracy.mean",
    "cv_intent_f1": "cross_validation.intent_classification.test.f1_score.mean",
    "cv_entity_f1": "cross_validation.entity_extraction.DIETClassifier.test.f1_score.mean",
    "cv_response_f1": "cross_validation.response_selection.test.f1_score.mean",
}

# Where metrics live in report.json, and the names of the values that are fractions (a
# minimum gate compares one of these; cross-validation's are under ".mean").
METRIC_SECTIONS = ("nlu", "core", "cross_validation")
FRACTION_METRICS = ("accuracy", "f1_score", "precision", "recall", "mean")
# Tasks that live under "nlu." or "core." may be named without that prefix (RTT habit).
_SECTION_OF_TASK = {
    "intent_classification": "nlu",
    "entity_extraction": "nlu",
    "response_selection": "nlu",
    "story_prediction": "core",
    "conversations": "core",
    "failed_stories": "core",
}
# rasa's own spellings, and RTT's, mapped to report.json's.
_SPELLINGS = {
    "f1-score": "f1_score",
    "weighted avg": "weighted_avg",
    "macro avg": "macro_avg",
    "micro avg": "micro_avg",
}
_MISSING = object()


def canonical_metric(name: str) -> str:
    """The full dotted path of a metric given as an alias or a (shortened) path."""
    name = name.strip()
    if name in ALIASES:
        return ALIASES[name]
    segments = [_SPELLINGS.get(segment, segment) for segment in name.split(".")]
    if segments and segments[0] in _SECTION_OF_TASK:
        segments.insert(0, _SECTION_OF_TASK[segments[0]])
    return ".".join(segments)


def _lookup(node: Any, segments: list[str]) -> Any:
    if not segments:
        return node
    if not isinstance(node, Mapping):
        return _MISSING
    # Label names may contain dots ("ask.price"), so also try joining segments.
    for end in range(1, len(segments) + 1):
        key = ".".join(segments[:end])
        if key in node:
            found = _lookup(node[key], segments[end:])
            if found is not _MISSING:
                return found
    return _MISSING


def lookup(report: Mapping[str, Any] | None, path: str) -> Any:
    """The value at a dotted path, or None when any part of it is missing or null."""
    if report is None:
        return None
    found = _lookup(report, path.split("."))
    return None if found is _MISSING else found


def lookup_number(report: Mapping[str, Any] | None, path: str) -> float | None:
    value = lookup(report, path)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _unevaluated(section: Any, extractor: str) -> str | None:
    """Why rasa did not score ``extractor`` (nlu.unevaluated_extractors), if the report says."""
    entries = section.get("unevaluated_extractors") if isinstance(section, Mapping) else None
    for entry in entries if isinstance(entries, list) else ():
        if isinstance(entry, Mapping) and entry.get("name") == extractor:
            return str(entry.get("reason") or "rasa did not score it")
    return None


def explain_missing(report: Mapping[str, Any], path: str) -> str:
    """Why a path has no number in this report, in words a user can act on."""
    segments = path.split(".")
    node: Any = report
    section: Any = None
    for index, segment in enumerate(segments):
        prefix = ".".join(segments[: index + 1])
        if not isinstance(node, Mapping):
            return f"{'.'.join(segments[:index])} is not an object"
        if segment not in node:
            unevaluated = (_unevaluated(section, segment)
                           if index == 2 and segments[1] == "entity_extraction" else None)
            if unevaluated:
                return f"{segment} was not evaluated: {unevaluated}"
            keys = ", ".join(sorted(str(key) for key in node)) or "nothing"
            return f"the report has no '{prefix}' (there: {keys})"
        node = node[segment]
        section = node if index == 0 else section  # nlu or cross_validation
        if node is None:
            return f"'{prefix}' is null: that task was not evaluated in this run"
    return f"'{path}' is not a number (it is {type(node).__name__})"


@dataclass(frozen=True)
class Headline:
    """One headline metric of one task, as shown in the summary and checked by max-drop gates."""

    task: str  # "Intent classification", "Entities: DIETClassifier", ...
    label: str  # "Weighted F1"
    path: str  # full dotted path of the value in report.json
    value: float | None
    std_path: str | None = None  # cross-validation: the standard deviation next to the mean


_CLASSIFICATION_METRICS = {
    "intent": (("Accuracy", "accuracy"), ("Weighted F1", "weighted_avg.f1_score"),
               ("Macro F1", "macro_avg.f1_score")),
    "entity": (("Weighted F1", "weighted_avg.f1_score"), ("Micro F1", "micro_avg.f1_score"),
               ("Precision", "weighted_avg.precision"), ("Recall", "weighted_avg.recall")),
    "response": (("Accuracy", "accuracy"), ("Weighted F1", "weighted_avg.f1_score")),
    "action": (("Action accuracy", "accuracy"), ("Action weighted F1", "weighted_avg.f1_score")),
}
_CROSS_VALIDATED_METRICS = (("Accuracy", "accuracy"), ("F1", "f1_score"),
                            ("Precision", "precision"))


def classification_tasks(report: Report) -> Iterator[tuple[str, str, str]]:
    """(title, kind, base path) of every classification task the report evaluated."""
    nlu = report.nlu
    if nlu is None:
        return
    if nlu.intent_classification is not None:
        yield "Intent classification", "intent", "nlu.intent_classification"
    for extractor in sorted(nlu.entity_extraction):
        yield f"Entities: {extractor}", "entity", f"nlu.entity_extraction.{extractor}"
    if nlu.response_selection is not None:
        yield "Response selection", "response", "nlu.response_selection"


def cross_validated_tasks(report: Report) -> Iterator[tuple[str, str]]:
    """(title, base path) of every cross-validated task."""
    cross = report.cross_validation
    if cross is None:
        return
    if cross.intent_classification is not None:
        yield "Intent classification", "cross_validation.intent_classification"
    for extractor in sorted(cross.entity_extraction):
        yield f"Entities: {extractor}", f"cross_validation.entity_extraction.{extractor}"
    if cross.response_selection is not None:
        yield "Response selection", "cross_validation.response_selection"


def metric(report: Report | None, path: str) -> float | None:
    """The number at a dotted path of a report, or None."""
    return None if report is None else lookup_number(report.data, path)


def headline_metrics(report: Report) -> list[Headline]:
    """Every headline metric the report has a value for, in summary order."""
    found: list[Headline] = []
    for title, kind, base in classification_tasks(report):
        for label, suffix in _CLASSIFICATION_METRICS[kind]:
            path = f"{base}.{suffix}"
            found.append(Headline(title, label, path, metric(report, path)))
    core = report.core
    if core is not None and core.conversations is not None:
        path = "core.conversations.accuracy"
        found.append(Headline("Conversations", "Conversation accuracy", path,
                              metric(report, path)))
    if core is not None and core.story_prediction is not None:
        for label, suffix in _CLASSIFICATION_METRICS["action"]:
            path = f"core.story_prediction.{suffix}"
            found.append(Headline("Conversations", label, path, metric(report, path)))
    for title, base in cross_validated_tasks(report):
        for label, name in _CROSS_VALIDATED_METRICS:
            path = f"{base}.test.{name}.mean"
            found.append(Headline(f"Cross-validation: {title}", label, path,
                                  metric(report, path), std_path=f"{base}.test.{name}.std"))
    return [headline for headline in found if headline.value is not None]
