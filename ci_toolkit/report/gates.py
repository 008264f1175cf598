"""Quality gates: minimum metrics, maximum drops against a baseline, failed test stories.

Each gate becomes one GateResult dict (docs/report-schema.md) with, in addition to the
documented keys, ``kind`` ("min" | "max_drop" | "failed_stories"), ``metric`` (the full
dotted path it checked, or None) and ``skipped`` (true when it could not be checked, e.g.
max-drop without a baseline; a skipped gate counts as passed).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ci_toolkit.errors import UsageError
from ci_toolkit.report.metrics import (
    ALIASES,
    canonical_metric,
    explain_missing,
    headline_metrics,
    lookup_number,
)

# Float noise (0.1 + 0.2 - 0.3) must not fail a gate that is met exactly.
TOLERANCE = 1e-9
_MINIMUM = re.compile(r"^\s*(?P<metric>[^<>=!\s]+)\s*>=\s*(?P<value>\S+)\s*$")
_PATH = re.compile(r"^[A-Za-z0-9_\-/]+(\.[A-Za-z0-9_\-/]+)*$")


@dataclass(frozen=True)
class GateSettings:
    minimums: tuple[tuple[str, float], ...] = ()  # (metric path in report.json, threshold)
    max_drop: float | None = None  # no headline metric may fall by more than this vs baseline
    allow_failed_stories: bool = True

    @property
    def configured(self) -> bool:
        return bool(self.minimums) or self.max_drop is not None or not self.allow_failed_stories


def _alias_help() -> str:
    return ", ".join(sorted(ALIASES))


def parse_minimum(text: str) -> tuple[str, float]:
    """Parse ``METRIC>=VALUE`` into (full metric path, threshold).

    METRIC is an alias (``intent_f1``), or a dotted path in report.json, with or without its
    ``nlu.``/``core.`` prefix (``intent_classification.weighted_avg.f1_score``).
    """
    match = _MINIMUM.match(text)
    if not match:
        raise UsageError(
            f"cannot read the minimum '{text}'. Write METRIC>=VALUE, for example "
            "'intent_f1>=0.9' or 'nlu.intent_classification.accuracy>=0.85'."
        )
    metric, raw_value = match.group("metric"), match.group("value")
    try:
        threshold = float(raw_value)
    except ValueError:
        raise UsageError(
            f"the minimum '{text}' has '{raw_value}' as its value, which is not a number. "
            "Write a fraction such as 0.9."
        ) from None
    if not math.isfinite(threshold) or not 0.0 <= threshold <= 1.0:
        raise UsageError(
            f"the minimum '{text}' must be between 0 and 1: metrics are fractions "
            f"(write 0.9, not 90)."
        )
    if metric not in ALIASES and "." not in metric:
        raise UsageError(
            f"'{metric}' in '{text}' is neither a short metric name nor a dotted path in "
            f"report.json. Short names: {_alias_help()}. Or give a path such as "
            "'nlu.intent_classification.weighted_avg.f1_score'."
        )
    if not _PATH.match(metric):
        raise UsageError(f"'{metric}' in '{text}' is not a dotted path such as 'a.b.c'.")
    return canonical_metric(metric), threshold


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _result(*, name: str, kind: str, metric: str | None, passed: bool, value: float | None,
            threshold: float | None, baseline: float | None, message: str,
            skipped: bool = False) -> dict[str, Any]:
    return {"name": name, "kind": kind, "metric": metric, "passed": passed, "value": value,
            "threshold": threshold, "baseline": baseline, "message": message, "skipped": skipped}


def _minimum_gate(report: Mapping[str, Any], baseline: Mapping[str, Any] | None,
                  metric: str, threshold: float) -> dict[str, Any]:
    value = lookup_number(report, metric)
    previous = lookup_number(baseline, metric)
    name = f"min {metric}"
    if value is None:
        return _result(
            name=name, kind="min", metric=metric, passed=False, value=None, threshold=threshold,
            baseline=previous,
            message=f"{metric} must be at least {threshold:.4f}, but "
                    f"{explain_missing(report, metric)}. Run the stage that produces it, or "
                    "remove this gate.",
        )
    passed = value >= threshold - TOLERANCE
    relation = "meets" if passed else "is below"
    return _result(name=name, kind="min", metric=metric, passed=passed, value=value,
                   threshold=threshold, baseline=previous,
                   message=f"{metric} is {_number(value)}, which {relation} the minimum "
                           f"{threshold:.4f}.")


def _max_drop_gates(report: Mapping[str, Any], baseline: Mapping[str, Any] | None,
                    max_drop: float) -> list[dict[str, Any]]:
    if baseline is None:
        return [_result(
            name=f"max drop {max_drop:g}", kind="max_drop", metric=None, passed=True, value=None,
            threshold=max_drop, baseline=None, skipped=True,
            message="not checked: there is no baseline report to compare with (--baseline).",
        )]
    results = []
    for headline in headline_metrics(report):
        previous = lookup_number(baseline, headline.path)
        if previous is None or headline.value is None:
            continue  # a task the baseline did not evaluate cannot have dropped
        drop = previous - headline.value
        passed = drop <= max_drop + TOLERANCE
        if passed:
            message = (f"{headline.path} is {_number(headline.value)} (baseline "
                       f"{_number(previous)}), within the allowed drop of {max_drop:.4f}.")
        else:
            message = (f"{headline.path} fell by {drop:.4f} ({_number(previous)} → "
                       f"{_number(headline.value)}), more than the allowed {max_drop:.4f}.")
        results.append(_result(
            name=f"max drop {headline.path}", kind="max_drop", metric=headline.path,
            passed=passed, value=headline.value, threshold=max_drop, baseline=previous,
            message=message,
        ))
    if not results:
        results.append(_result(
            name=f"max drop {max_drop:g}", kind="max_drop", metric=None, passed=True, value=None,
            threshold=max_drop, baseline=None, skipped=True,
            message="not checked: the report and the baseline share no headline metric.",
        ))
    return results


def failed_story_count(report: Mapping[str, Any]) -> int | None:
    """How many test stories failed, or None when the core tests did not run."""
    core = report.get("core")
    if not isinstance(core, Mapping):
        return None
    count = len(core.get("failed_stories") or [])
    conversations = core.get("conversations")
    if isinstance(conversations, Mapping):
        correct, total = conversations.get("correct"), conversations.get("total")
        if isinstance(correct, int) and isinstance(total, int):
            count = max(count, total - correct)
    return count


def _failed_stories_gate(report: Mapping[str, Any]) -> dict[str, Any]:
    count = failed_story_count(report)
    name = "no failed test stories"
    if count is None:
        return _result(
            name=name, kind="failed_stories", metric="core.failed_stories", passed=False,
            value=None, threshold=0, baseline=None,
            message="failed test stories are not allowed, but the report has no core test "
                    "results (the test_core stage did not run). Run the story tests, or allow "
                    "failed stories (--allow-failed-stories).",
        )
    passed = count == 0
    message = ("every test story passed." if passed else
               f"{count} test stor{'y' if count == 1 else 'ies'} failed, and failed stories are "
               "not allowed (--fail-on-failed-stories).")
    return _result(name=name, kind="failed_stories", metric="core.failed_stories",
                   passed=passed, value=count, threshold=0, baseline=None, message=message)


def evaluate_gates(report: dict, baseline: dict | None, settings: GateSettings) -> list[dict]:
    """Check every configured gate; a gate that names a missing metric fails, with the reason."""
    results = [_minimum_gate(report, baseline, metric, threshold)
               for metric, threshold in settings.minimums]
    if settings.max_drop is not None:
        results.extend(_max_drop_gates(report, baseline, settings.max_drop))
    if not settings.allow_failed_stories:
        results.append(_failed_stories_gate(report))
    return results


def failed_gates(gates: list[dict]) -> list[dict]:
    return [gate for gate in gates if not gate.get("passed")]


def gate_failure_message(gates: list[dict]) -> str:
    """One message naming every failed gate, for the error boundary."""
    failed = failed_gates(gates)
    lines = [f"{len(failed)} quality gate{'s' if len(failed) != 1 else ''} failed:"]
    lines.extend(f"  - {gate['message']}" for gate in failed)
    return "\n".join(lines)
