"""The compact result table printed at the end of a run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ci_toolkit.pipeline.registry import LABELS
from ci_toolkit.report.model import Status

if TYPE_CHECKING:
    from ci_toolkit.report.model import Classification, Core, CrossValidation, Nlu, Report


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _f1(classification: Classification | None) -> float | None:
    if classification is None or classification.weighted_avg is None:
        return None
    return classification.weighted_avg.f1_score


def _core(core: Core) -> str:
    conv = core.conversations
    text = f"stories {conv.correct}/{conv.total}" if conv is not None else "stories ?/?"
    story = core.story_prediction
    return f"{text}, action F1 {_pct(_f1(story))}" if story else text


def _nlu(nlu: Nlu) -> str:
    parts = [f"intent F1 {_pct(_f1(nlu.intent_classification))}"]
    parts += [f"{name} F1 {_pct(_f1(value))}" for name, value in nlu.entity_extraction.items()]
    if nlu.response_selection:
        parts.append(f"responses F1 {_pct(_f1(nlu.response_selection))}")
    parts += [f"{extractor.name} NOT EVALUATED" for extractor in nlu.unevaluated_extractors
              if extractor.unreachable]
    return ", ".join(parts)


def _cross_validation(cross: CrossValidation) -> str:
    intent = cross.intent_classification
    f1 = intent.test.get("f1_score") if intent is not None else None
    if f1:
        return f"intent F1 {f1.mean:.3f} ± {f1.std:.3f} ({cross.folds} folds)"
    return f"intent F1 {_pct(_f1(intent.pooled if intent else None))} (pooled)"


def headline(report: Report, stage: str) -> str:
    if stage == "validate" and report.validation:
        v = report.validation
        return f"{len(v.errors)} errors, {len(v.warnings)} warnings"
    if stage == "train" and report.model:
        return str(report.model.path)
    if stage == "test_core" and report.core:
        return _core(report.core)
    if stage == "test_nlu" and report.nlu:
        return _nlu(report.nlu)
    if stage == "cross_validate" and report.cross_validation:
        return _cross_validation(report.cross_validation)
    return ""


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds} s"


def render_table(report: Report, *, report_path: str | None = None) -> str:
    rows = [("stage", "status", "time", "result")]
    for stage in report.stages:
        status = stage.status.value
        if stage.cached:
            status, time = "cached", f"saved {_duration(stage.saved_s or 0)}"
        else:
            time = _duration(stage.duration_s) if stage.status is not Status.SKIPPED else "-"
        detail = headline(report, stage.name)
        if stage.reason and (stage.status is not Status.PASSED or not detail):
            detail = stage.reason
        elif stage.reason:
            detail = f"{detail}; {stage.reason}"
        rows.append((LABELS[stage.name], status, time, detail))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}  {d}".rstrip()
             for a, b, c, d in rows]
    lines.insert(1, "-" * min(100, max(len(line) for line in lines)))
    tail = f"verdict: {report.verdict.value.upper()} in {_duration(report.run.duration_s)}"
    # Not a failure unless a gate says so, but never to be missed: rasa itself exits 0.
    lines += [f"warning: {extractor.name} was not evaluated: {extractor.reason}"
              for extractor in report.unreachable_extractors]
    for gate in report.gates:
        if not gate.passed:
            lines.append(f"gate failed: {gate.message or gate.name}")
    if report_path:
        tail += f"; report: {report_path}"
    lines.append(tail)
    return "\n".join(lines)
