"""sklearn's ``classification_report(output_dict=True)`` as rasa completes it, written out.

The toolkit does not depend on sklearn, yet a pooled report must be the one rasa would have
written for the same predictions. So this module repeats sklearn 1.1's arithmetic (the
version rasa 3.6 pins) operation for operation, including numpy's pairwise summation, which
makes the floats equal to the last bit, not merely close:

- the rows are the gold labels only (rasa passes ``labels=set(targets)``, less the
  excluded label of entity reports); a label that was
  predicted but never gold has no row, yet counts against the precision of nothing and
  against the recall of the gold label it replaced;
- precision = tp / predicted, recall = tp / support, f1 = 2·p·r / (p + r), 0 when a
  denominator is 0 (sklearn's ``zero_division="warn"``);
- macro avg = the plain mean of the rows, weighted avg = the mean weighted by support;
- ``accuracy`` = correct / all; sklearn reports either ``accuracy`` (when the rows cover
  every label seen) or ``micro avg`` (summed over the rows only) and rasa fills in the other
  (rasa/model_testing.py::make_classification_report_complete);
- ``confused_with``: per gold label, the labels it was most often mistaken for, at most
  three candidates from the top of its confusion-matrix row
  (rasa/nlu/test.py::_add_confused_labels_to_report). Ties are broken by label order; rasa
  uses numpy's unstable argsort there, so with more than 16 labels a tie may name another.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

_PAIRWISE_BLOCK = 128


def numpy_sum(values: Sequence[float]) -> float:
    """``numpy.sum`` of float64 values, in numpy's order (pairwise, blocks of eight)."""
    count = len(values)
    if count < 8:
        total = 0.0
        for value in values:
            total += value
        return total
    if count <= _PAIRWISE_BLOCK:
        partial = list(values[:8])
        index = 8
        while index < count - count % 8:
            for lane in range(8):
                partial[lane] += values[index + lane]
            index += 8
        total = ((partial[0] + partial[1]) + (partial[2] + partial[3])) + \
            ((partial[4] + partial[5]) + (partial[6] + partial[7]))
        for value in values[index:]:
            total += value
        return total
    half = count // 2
    half -= half % 8
    return numpy_sum(values[:half]) + numpy_sum(values[half:])


def _divide(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    denominator = precision + recall
    return (2.0 * precision) * recall / denominator if denominator else 0.0


def _row(tp: int, predicted: int, support: int) -> dict[str, Any]:
    precision, recall = _divide(tp, predicted), _divide(tp, support)
    return {"precision": precision, "recall": recall, "f1-score": _f1(precision, recall),
            "support": support}


def _averages(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    supports = [row["support"] for row in rows]
    total = sum(supports)
    macro: dict[str, Any] = {"support": total}
    weighted: dict[str, Any] = {"support": total}
    for key in ("precision", "recall", "f1-score"):
        column = [row[key] for row in rows]
        macro[key] = numpy_sum(column) / len(column)
        weighted[key] = _divide(numpy_sum([v * s for v, s in zip(column, supports)]),
                                numpy_sum([float(s) for s in supports]))
    return macro, weighted


def _confused_with(label: str, confusions: Counter[tuple[str, str]],
                   labels_seen: list[str]) -> dict[str, int]:
    row = [(confusions[(label, other)], index) for index, other in enumerate(labels_seen)]
    candidates = sorted(row)[-min(3, len(labels_seen)):][::-1]
    return {labels_seen[index]: count for count, index in candidates
            if labels_seen[index] != label and count > 0}


def classification_report(targets: Sequence[str], predictions: Sequence[str], *,
                          exclude_label: str | None = None) -> dict[str, Any]:
    """The report rasa writes (intent_report.json shape) for these gold/predicted labels.

    ``exclude_label`` is rasa's for entities (per-token labels, "no_entity"): it gets no row
    and is never named in ``confused_with``, but its tokens count in ``accuracy`` and
    against the precision of the labels predicted for them."""
    if len(targets) != len(predictions):
        raise ValueError("targets and predictions differ in length")
    labels = sorted(set(targets) - {exclude_label})
    if not labels:
        return {}  # rasa: "No labels to evaluate. Skip evaluation." and an empty report
    confusions = Counter(zip(targets, predictions))
    gold, predicted = Counter(targets), Counter(predictions)
    rows = [_row(confusions[(label, label)], predicted[label], gold[label]) for label in labels]
    report: dict[str, Any] = dict(zip(labels, rows))
    correct = sum(1 for target, guess in zip(targets, predictions) if target == guess)
    accuracy = correct / len(targets)
    macro, weighted = _averages(rows)
    if set(targets) | set(predicted) <= set(labels):
        micro = {"precision": accuracy, "recall": accuracy, "f1-score": accuracy,
                 "support": macro["support"]}
    else:  # sklearn's micro average over the rows only; rasa adds accuracy over all
        tp = sum(confusions[(label, label)] for label in labels)
        micro = _row(tp, sum(predicted[label] for label in labels), macro["support"])
    report.update({"accuracy": accuracy, "macro avg": macro, "weighted avg": weighted,
                   "micro avg": micro})
    labels_seen = sorted(set(targets) | set(predictions))
    for label in labels:
        report[label]["confused_with"] = {
            other: count for other, count in _confused_with(label, confusions,
                                                            labels_seen).items()
            if other != exclude_label}
    return report


def fold_metrics(report: dict[str, Any]) -> dict[str, float]:
    """The three numbers rasa logs per fold (weighted precision and F1, and accuracy)."""
    weighted = report.get("weighted avg") or {}
    return {"accuracy": float(report.get("accuracy", 0.0)),
            "f1_score": float(weighted.get("f1-score", 0.0)),
            "precision": float(weighted.get("precision", 0.0))}
