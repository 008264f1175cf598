"""The one line under the verdict that says what changed against the baseline.

A reviewer reads it first: "intent weighted F1 -0.031, 1 story newly failing, 2 metrics
better", "no change against the baseline", or "no baseline". The worst drops are named
(largest first); improvements are counted.
"""

from __future__ import annotations

from ci_toolkit.report.deltas import Delta
from ci_toolkit.report.metrics import Headline, headline_metrics, metric
from ci_toolkit.report.model import Report
from ci_toolkit.summary.view import plural

NAMED_DROPS = 3  # more drops than this are counted, not named
MINUS = "\u2212"  # the minus sign, not a hyphen


def short_name(headline: Headline) -> str:
    """"intent weighted F1", "CV intent F1", "entities (DIETClassifier) F1"."""
    task = headline.task
    prefix = ""
    if task.startswith("Cross-validation: "):
        prefix, task = "CV ", task.removeprefix("Cross-validation: ")
    if task.startswith("Entities: "):
        task = f"entities ({task.removeprefix('Entities: ')})"
    else:
        task = {"Intent classification": "intent", "Response selection": "response",
                "Conversations": "conversation"}.get(task, task)
    label = headline.label
    if label.lower().startswith(task.lower() + " "):  # "Conversation accuracy"
        label = label[len(task) + 1:]
    label = label[:1].lower() + label[1:] if not label[:2].isupper() else label
    return f"{prefix}{task} {label}"


def _signed(change: float) -> str:
    return f"{'+' if change > 0 else MINUS}{abs(change):.3f}"


def _failed_names(report: Report) -> set[str]:
    core = report.core
    return {str(story.name) for story in core.failed_stories} if core is not None else set()


def change_line(report: Report, baseline: Report | None, worse_intents: int = 0) -> str:
    """``worse_intents``: how many intents' F1 fell (the same headline can hide them)."""
    if baseline is None:
        return "no baseline"
    drops: list[tuple[float, str]] = []
    better = 0
    for headline in headline_metrics(report):
        delta = Delta(headline.value, metric(baseline, headline.path))
        if delta.direction == "down":
            drops.append((delta.change or 0.0, short_name(headline)))
        elif delta.direction == "up":
            better += 1
    drops.sort()
    parts = [f"{name} {_signed(change)}" for change, name in drops[:NAMED_DROPS]]
    if len(drops) > NAMED_DROPS:
        parts.append(f"{plural(len(drops) - NAMED_DROPS, 'more metric')} worse")
    if worse_intents:
        parts.append(f"{plural(worse_intents, 'intent')} with a lower F1")
    failing = _failed_names(report) - _failed_names(baseline)
    fixed = _failed_names(baseline) - _failed_names(report)
    if failing:
        parts.append(f"{plural(len(failing), 'story', 'stories')} newly failing")
    if fixed:
        parts.append(f"{plural(len(fixed), 'story', 'stories')} fixed")
    if better:
        parts.append(f"{plural(better, 'metric')} better")
    return ", ".join(parts) if parts else "no change against the baseline"
