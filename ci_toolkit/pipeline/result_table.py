"""The compact result table printed at the end of a run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LABELS = {"validate": "validate", "train": "train", "test_core": "test core",
          "test_nlu": "test nlu", "cross_validate": "cross-validate"}


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _f1(classification: Mapping[str, Any] | None) -> float | None:
    if not classification:
        return None
    weighted = classification.get("weighted_avg") or {}
    return weighted.get("f1_score")


def headline(report: Mapping[str, Any], stage: str) -> str:
    if stage == "validate" and report.get("validation"):
        v = report["validation"]
        return f"{len(v['errors'])} errors, {len(v['warnings'])} warnings"
    if stage == "train" and report.get("model"):
        return str(report["model"]["path"])
    if stage == "test_core" and report.get("core"):
        core = report["core"]
        conv = core.get("conversations") or {}
        text = f"stories {conv.get('correct', '?')}/{conv.get('total', '?')}"
        story = core.get("story_prediction")
        return f"{text}, action F1 {_pct(_f1(story))}" if story else text
    if stage == "test_nlu" and report.get("nlu"):
        nlu = report["nlu"]
        parts = [f"intent F1 {_pct(_f1(nlu.get('intent_classification')))}"]
        parts += [f"{name} F1 {_pct(_f1(value))}"
                  for name, value in (nlu.get("entity_extraction") or {}).items()]
        if nlu.get("response_selection"):
            parts.append(f"responses F1 {_pct(_f1(nlu['response_selection']))}")
        return ", ".join(parts)
    if stage == "cross_validate" and report.get("cross_validation"):
        intent = report["cross_validation"].get("intent_classification") or {}
        f1 = (intent.get("test") or {}).get("f1_score")
        if f1:
            folds = report["cross_validation"]["folds"]
            return f"intent F1 {f1['mean']:.3f} ± {f1['std']:.3f} ({folds} folds)"
        return f"intent F1 {_pct(_f1(intent.get('pooled')))} (pooled)"
    return ""


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds} s"


def render_table(report: Mapping[str, Any], *, report_path: str | None = None) -> str:
    rows = [("stage", "status", "time", "result")]
    for stage in report["stages"]:
        if stage["cached"]:
            status = "cached"
            time = f"saved {_duration(stage['saved_s'] or 0)}"
        else:
            status = stage["status"]
            time = _duration(stage["duration_s"]) if stage["status"] != "skipped" else "-"
        detail = headline(report, stage["name"])
        if stage["reason"] and (stage["status"] != "passed" or not detail):
            detail = stage["reason"]
        elif stage["reason"]:
            detail = f"{detail}; {stage['reason']}"
        rows.append((LABELS[stage["name"]], status, time, detail))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}  {d}".rstrip()
             for a, b, c, d in rows]
    lines.insert(1, "-" * min(100, max(len(line) for line in lines)))
    verdict = report["verdict"].upper()
    tail = f"verdict: {verdict} in {_duration(report['run']['duration_s'])}"
    failed_gates = [g for g in report.get("gates", []) if not g.get("passed")]
    for gate in failed_gates:
        lines.append(f"gate failed: {gate.get('message') or gate.get('name')}")
    if report_path:
        tail += f"; report: {report_path}"
    lines.append(tail)
    return "\n".join(lines)
