"""Build the summary a reviewer sees from report.json and an optional baseline report.

The result is a SummaryView (ci_toolkit/summary/view.py): headline metrics per task with
deltas, the intents that got worse and the weakest ones, failed stories, validation
findings, stage timings and links. ci_toolkit/summary/markdown.py renders it to Markdown that
fits GitHub's comment size limit; ci_toolkit/summary/html.py renders it to HTML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ci_toolkit.escape import safe_url
from ci_toolkit.report.deltas import (
    Delta,
    LabelScore,
    confused_with_text,
    got_worse,
    label_scores,
    number,
    weakest,
)
from ci_toolkit.report.metrics import (
    Headline,
    classification_tasks,
    cross_validated_tasks,
    headline_metrics,
    metric,
)
from ci_toolkit.report.model import Artifacts, GateResult, Report, Status
from ci_toolkit.summary.actions import actions_summary, failed_checks_phrase
from ci_toolkit.summary.changes import change_line
from ci_toolkit.summary.comparison import comparison_summary
from ci_toolkit.summary.locations import locate
from ci_toolkit.summary.view import (
    MAX_STORY_YAML,
    WEAKEST_INTENTS,
    CrossValidationRow,
    CrossValidationSection,
    CutList,
    FindingRow,
    GateRow,
    LabelRow,
    MetricRow,
    MetricTable,
    StageRow,
    StoryRow,
    SummaryView,
    duration,
    marker,
    shorten,
)


def _not_run(report: Report, stage_name: str) -> str:
    stage = report.stage(stage_name)
    reason = shorten(stage.reason, 200) if stage is not None and stage.reason else None
    if stage is not None and stage.status is Status.FAILED:
        return f"failed: {reason}" if reason else "failed"
    return f"not run: {reason}" if reason else "not run"


def _gate_marks(gates: list[GateResult]) -> dict[str, str]:
    marks: dict[str, str] = {}
    for gate in gates:
        if gate.passed or not gate.metric:
            continue
        if gate.kind == "max_drop":
            marks[gate.metric + "#delta"] = f"❌ drop > {gate.threshold:g}"
        elif gate.kind == "min":
            marks[gate.metric] = f"❌ below the minimum {gate.threshold:g}"
    return marks


def _metric_rows(report: Report, baseline: Report | None, headlines: list[Headline],
                 marks: dict[str, str]) -> list[MetricRow]:
    rows = []
    conversations = report.core.conversations if report.core is not None else None
    for headline in headlines:
        value = number(headline.value)
        if headline.path == "core.conversations.accuracy" and conversations is not None:
            value += f" ({conversations.correct}/{conversations.total})"
        previous = metric(baseline, headline.path)
        delta = Delta(headline.value, previous).text if baseline is not None else ""
        value = f"{value} {marks.get(headline.path, '')}".strip()
        delta = f"{delta} {marks.get(headline.path + '#delta', '')}".strip()
        rows.append(MetricRow(headline.label, value, delta))
    return rows


def _unchanged(deltas: list[str]) -> bool:
    """Every delta is "=" (a gate mark would follow it): nothing for a reviewer to see."""
    return bool(deltas) and all(delta == "=" for delta in deltas)


INFORMATION = "\u2139\ufe0f"  # the emoji: ruff takes the bare character for a confusable "i"


def _extractor_notes(report: Report) -> list[str]:
    """A line per extractor rasa did not score: ⚠️ when it could not do its work."""
    return [f"{'⚠️' if extractor.unreachable else INFORMATION} {extractor.name} was not evaluated: "
            f"{shorten(extractor.reason, 200)}" for extractor in report.unevaluated_extractors]


def _task_tables(report: Report, baseline: Report | None,
                 marks: dict[str, str]) -> list[MetricTable]:
    tables: list[MetricTable] = []
    by_task: dict[str, list[Headline]] = {}
    for headline in headline_metrics(report):
        by_task.setdefault(headline.task, []).append(headline)

    def rows(task: str) -> list[MetricRow]:
        return _metric_rows(report, baseline, by_task.get(task, []), marks)

    if report.nlu is None:
        tables.append(MetricTable("NLU", [], _not_run(report, "test_nlu"),
                                  notes=_extractor_notes(report)))
    else:
        evaluated = {title for title, _, _ in classification_tasks(report)}
        for title, _, _ in classification_tasks(report):
            found = rows(title)
            tables.append(MetricTable(title, found, unchanged=_unchanged(
                [row.delta for row in found]) and baseline is not None))
        if "Intent classification" not in evaluated:
            tables.insert(0, MetricTable("Intent classification", [],
                                         "not evaluated (the test data has fewer than 2 intents)"))
        if not any(title.startswith("Entities") for title in evaluated):
            tables.append(MetricTable("Entities", [],
                                      "not evaluated (no annotated entities in the test data)"))
        entities = [table for table in tables if table.title.startswith("Entities")]
        entities[-1].notes.extend(_extractor_notes(report))
        if "Response selection" not in evaluated:
            tables.append(MetricTable("Response selection", [],
                                      "not evaluated (no retrieval intents in the test data)"))
    if report.core is None:
        tables.append(MetricTable("Conversations", [], _not_run(report, "test_core")))
    else:
        found = rows("Conversations")
        unchanged = baseline is not None and _unchanged([row.delta for row in found]) \
            and _failed(report) == _failed(baseline)
        tables.append(MetricTable("Conversations", found, None if found else "no test stories ran",
                                  unchanged=unchanged))
    return tables


def _cross_validation(report: Report, baseline: Report | None,
                      marks: dict[str, str]) -> CrossValidationSection:
    cross = report.cross_validation
    if cross is None:
        return CrossValidationSection(_not_run(report, "cross_validate"), None, [])
    rows = []
    deltas: list[str] = []
    for title, base in cross_validated_tasks(report):
        cells = []
        for name in ("accuracy", "f1_score", "precision"):
            path = f"{base}.test.{name}.mean"
            mean = metric(report, path)
            std = metric(report, f"{base}.test.{name}.std")
            cell = number(mean) + (f" ± {number(std)}" if std is not None else "")
            if baseline is not None and mean is not None:
                deltas.append(Delta(mean, metric(baseline, path)).text)
                cell += f" {deltas[-1]}"
            mark = " ".join(filter(None, (marks.get(path), marks.get(path + "#delta"))))
            cells.append(f"{cell} {mark}".strip())
        rows.append(CrossValidationRow(title, *cells))
    return CrossValidationSection(None if rows else "no task was cross-validated",
                                  f"{cross.folds} folds" if cross.folds else None, rows,
                                  unchanged=baseline is not None and _unchanged(deltas)
                                  and not marks)


def _label_row(score: LabelScore, with_delta: bool) -> LabelRow:
    return LabelRow(
        name=score.name, f1=number(score.f1), precision=number(score.precision),
        recall=number(score.recall), support="" if score.support is None else str(score.support),
        delta=score.delta.text if with_delta else "",
        confused_with=confused_with_text(score.confused_with),
    )


def _at_commit(report: Report, what: str, suffix: str = "", *,
               commit: str | None = None) -> str | None:
    """``server/owner/repo/<what>/<commit><suffix>``, when the report knows them.
    ``commit`` replaces the report's own (the PR's head commit, the baseline's commit)."""
    github, commit = report.run.github, commit or report.run.commit
    if not (commit and github is not None and github.server_url and github.repository):
        return None
    return safe_url(f"{github.server_url}/{github.repository}/{what}/{commit}{suffix}")


def _stories(report: Report, root: Path) -> list[StoryRow]:
    rows = []
    failed = report.core.failed_stories if report.core is not None else []
    for story in failed:
        path, line = locate(story.file, project_dir=report.assistant.project_dir, root=root,
                            story=story.name)
        line = story.line if isinstance(story.line, int) else line
        yaml_text = story.yaml or ""
        if len(yaml_text) > MAX_STORY_YAML:
            yaml_text = (yaml_text[:MAX_STORY_YAML].rstrip()
                         + "\n# … (cut: the full story is in the artifacts)")
        step = story.failed_step
        rows.append(StoryRow(
            name=str(story.name or "unnamed story"),
            where=f"{path}:{line}" if path and line else path,
            link=_at_commit(report, "blob", f"/{path}#L{line}") if path and line else None,
            step_index=step.index if step is not None and isinstance(step.index, int) else None,
            step_kind=str(step.kind or "step") if step is not None else "step",
            expected=None if step is None or step.expected is None else str(step.expected),
            predicted=None if step is None or step.predicted is None else str(step.predicted),
            utterance=shorten(step.text, 160) if step is not None and step.text else None,
            yaml=yaml_text.rstrip("\n"),
        ))
    return rows


def _findings(report: Report, root: Path, level: str) -> list[FindingRow]:
    rows = []
    findings = getattr(report.validation, level) if report.validation is not None else []
    for finding in findings:
        path, _ = locate(finding.file, project_dir=report.assistant.project_dir, root=root)
        line = finding.line
        where = f"{path}:{line}" if path and line else (path or "")
        rows.append(FindingRow(level=finding.level or level.rstrip("s"),
                               code=str(finding.code or ""), where=where,
                               message=shorten(finding.message)))
    return rows


def _stage_rows(report: Report) -> list[StageRow]:
    rows = []
    for stage in report.stages:
        status = stage.status.value
        reason = shorten(stage.reason, 160) if stage.reason else ""
        if stage.cached:
            saved = stage.saved_s
            text = f"♻️ cached, saved {duration(saved)}" if saved else "♻️ cached"
        elif stage.status is Status.PASSED:
            # A note on a pass ("2 of 6 test stories failed") is a warning, never hidden.
            text = f"⚠️ passed: {reason}" if reason else "✅ passed"
        elif stage.status is Status.FAILED:
            text = "❌ failed" + (f": {reason}" if reason else "")
        else:
            text = f"⏭️ {status or 'unknown'}" + (f": {reason}" if reason else "")
        rows.append(StageRow(str(stage.name), text, duration(stage.duration_s)))
    return rows


def _image_names(artifacts: Artifacts) -> list[str]:
    """Images relative to the results directory ("nlu/intent_histogram.png"): names repeat."""
    results = artifacts.results_dir
    names = []
    for image in artifacts.images:
        path = Path(image)
        if results and path.is_relative_to(results):
            names.append(path.relative_to(results).as_posix())
        else:
            names.append(path.name)
    return names


def _gate_rows(gates: list[GateResult]) -> list[GateRow]:
    ordered = sorted(gates, key=lambda gate: bool(gate.passed))  # failed first
    return [GateRow(bool(gate.passed), bool(gate.skipped), str(gate.name),
                    shorten(gate.message)) for gate in ordered]


def _header(report: Report, baseline: Report | None, gates: list[GateResult],
            name: str, head_commit: str | None, worse_intents: int) -> dict[str, Any]:
    """The first lines of the summary: verdict, commit, context, baseline."""
    run, assistant = report.run, report.assistant
    failed_gate = any(not gate.passed for gate in gates)
    context = [(label, str(value)) for label, value in (
        ("Rasa", run.rasa_version), ("data", assistant.data_name),
        ("configuration", assistant.configuration_name)) if value]
    baseline_commit = baseline.run.commit if baseline is not None else None
    commit = head_commit or run.commit
    return {
        "marker": marker(name),
        "verdict": "failed" if failed_gate or not report.passed else "passed",
        "assistant": name,
        "commit": commit[:7] if commit else None,
        "commit_url": _at_commit(report, "commit", commit=commit),
        "total_time": duration(run.duration_s),
        "context": context,
        "has_baseline": baseline is not None,
        "baseline_commit": baseline_commit[:7] if baseline_commit else None,
        # The baseline ran in the same repository; its own report may not know the server.
        "baseline_commit_url": _at_commit(baseline, "commit") or _at_commit(
            report, "commit", commit=baseline_commit) if baseline and baseline_commit else None,
        "changes": _changes(report, baseline, worse_intents),
    }


def _changes(report: Report, baseline: Report | None, worse_intents: int) -> str:
    """What changed; failed action checks first, with or without a baseline (the contract
    tests compare the code with the protocol, not with the last run)."""
    line = change_line(report, baseline, worse_intents)
    actions = failed_checks_phrase(report)
    return f"{actions}; {line}" if actions else line


def _links(report: Report) -> dict[str, Any]:
    # Only an http(s) URL becomes a link; the template shows no link for anything else.
    run_url = safe_url(report.run.github.run_url) if report.run.github is not None else None
    return {
        "images": _image_names(report.artifacts),
        "results_dir": report.artifacts.results_dir,
        "run_url": run_url,
        "artifacts_url": f"{run_url}#artifacts" if run_url else None,
        "tool": f"{report.tool.name} {report.tool.version}".strip(),
    }


def _conversations_note(report: Report) -> str | None:
    conversations = report.core.conversations if report.core is not None else None
    if conversations is None:
        return None
    return f"{conversations.correct} of {conversations.total} test stories passed."


def _failed(report: Report) -> int:
    return len(report.core.failed_stories) if report.core is not None else 0


def build_summary(report: Report, baseline: Report | None = None, *,
                  gates: list[GateResult] | None = None, assistant_name: str | None = None,
                  root: Path | None = None, head_commit: str | None = None) -> SummaryView:
    """The whole summary of one report.

    ``gates`` replaces the gates recorded in the report; ``root`` is the directory the
    report's relative paths start from (default: the current directory); ``head_commit`` is
    the commit to name instead of the report's (a PR's head, not GitHub's merge commit).
    """
    root = root or Path.cwd()
    gates = list(report.gates) if gates is None else gates
    name = assistant_name or report.assistant.name or "assistant"
    marks = _gate_marks(gates)
    intents = label_scores(
        report.nlu.intent_classification if report.nlu is not None else None,
        baseline.nlu.intent_classification if baseline is not None and baseline.nlu else None)
    weakest_rows = [_label_row(score, baseline is not None)
                    for score in weakest(intents, WEAKEST_INTENTS)]
    stories = _stories(report, root)
    worse = [_label_row(score, True) for score in got_worse(intents)]
    return SummaryView(
        **_header(report, baseline, gates, name, head_commit, len(worse)),
        gates=_gate_rows(gates),
        tasks=_task_tables(report, baseline, marks),
        cross_validation=_cross_validation(report, baseline, marks),
        worse_intents=CutList("intents that got worse", worse),
        weakest_intents=CutList("weakest intents", weakest_rows),
        intent_count=len(intents),
        conversations_note=_conversations_note(report),
        failed_stories=CutList("failed test stories", stories),
        story_yaml_shown=len(stories),
        validation_status=_not_run(report, "validate") if report.validation is None else None,
        validation_errors=CutList("validation errors", _findings(report, root, "errors")),
        validation_warnings=CutList("validation warnings", _findings(report, root, "warnings")),
        stages=_stage_rows(report),
        **_links(report),
        unreachable_extractors=len(report.unreachable_extractors),
        failed_story_count=_failed(report),
        actions=actions_summary(report),
        comparison=comparison_summary(report),
    )
