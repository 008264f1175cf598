"""Compare a report with its baseline: metric deltas and the labels that got worse."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ci_toolkit.report.model import Classification

# Values are shown with 4 decimals; a change smaller than half the last digit shows as "=".
SAME_WITHIN = 0.00005
DECIMALS = 4


def number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.{DECIMALS}f}"


def signed(change: float) -> str:
    # Always signed, so "+0.0120" and "-0.0300" line up in a right-aligned column.
    text = f"{abs(change):.{DECIMALS}f}"
    return f"+{text}" if change >= 0 else f"-{text}"


@dataclass(frozen=True)
class Delta:
    value: float | None
    baseline: float | None

    @property
    def change(self) -> float | None:
        if self.value is None or self.baseline is None:
            return None
        return self.value - self.baseline

    @property
    def direction(self) -> str | None:
        """"up", "down", "same", or None when there is nothing to compare with."""
        change = self.change
        if change is None:
            return None
        if abs(change) < SAME_WITHIN:
            return "same"
        return "up" if change > 0 else "down"

    @property
    def text(self) -> str:
        direction = self.direction
        if direction is None:
            return "new" if self.baseline is None and self.value is not None else "n/a"
        if direction == "same":
            return "="
        arrow = "▲" if direction == "up" else "▼"
        return f"{arrow} {signed(self.change or 0.0)}"


@dataclass(frozen=True)
class LabelScore:
    """One label (intent, entity, action) of a classification report."""

    name: str
    f1: float | None
    precision: float | None
    recall: float | None
    support: int | None
    confused_with: tuple[tuple[str, int], ...]
    baseline_f1: float | None = None

    @property
    def delta(self) -> Delta:
        return Delta(self.f1, self.baseline_f1)


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def label_scores(classification: Classification | None,
                 baseline: Classification | None = None) -> list[LabelScore]:
    """Every label of a classification, with its baseline F1 when the baseline has it."""
    if classification is None:
        return []
    baseline_labels = baseline.labels if baseline is not None else {}
    scores = []
    for name, values in classification.labels.items():
        # The schema does not type confusion counts: keep the ones that are counts.
        confused = values.confused_with if isinstance(values.confused_with, Mapping) else {}
        ranked = sorted(((str(label), count) for label, count in confused.items()
                         if isinstance(count, int) and not isinstance(count, bool)),
                        key=lambda item: (-item[1], item[0]))
        previous = baseline_labels.get(name)
        support = values.support
        scores.append(LabelScore(
            name=str(name),
            f1=_float(values.f1_score),
            precision=_float(values.precision),
            recall=_float(values.recall),
            support=support if isinstance(support, int) else None,
            confused_with=tuple(ranked),
            baseline_f1=_float(previous.f1_score) if previous is not None else None,
        ))
    return scores


def got_worse(scores: list[LabelScore]) -> list[LabelScore]:
    """Labels whose F1 fell against the baseline, the biggest fall first."""
    worse = [score for score in scores if score.delta.direction == "down"]
    return sorted(worse, key=lambda score: (score.delta.change or 0.0, score.name))


def weakest(scores: list[LabelScore], count: int) -> list[LabelScore]:
    """The labels with the lowest F1 below 1.0, lowest first (ties: more support first)."""
    imperfect = [score for score in scores if score.f1 is not None and score.f1 < 1.0]
    imperfect.sort(key=lambda score: (score.f1, -(score.support or 0), score.name))
    return imperfect[:count]


def confused_with_text(confused: tuple[tuple[str, int], ...], limit: int = 3) -> str:
    return ", ".join(f"{label} ({count})" for label, count in confused[:limit])
