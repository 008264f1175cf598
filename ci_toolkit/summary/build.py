"""Build the summary a reviewer sees from report.json and an optional baseline report.

The result is a SummaryView (ci_toolkit/summary/view.py): headline metrics per task with
deltas, the intents that got worse and the weakest ones, failed stories, validation
findings, stage timings and links. ci_toolkit/summary/markdown.py renders it to Markdown that
fits GitHub's comment size limit; ci_toolkit/summary/html.py renders it to HTML.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

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
    lookup_number,
)
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


def _stage(report: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    for stage in report.get("stages") or []:
        if stage.get("name") == name:
            return stage
    return {}


def _not_run(report: Mapping[str, Any], stage_name: str) -> str:
    stage = _stage(report, stage_name)
    reason = shorten(stage.get("reason"), 200) if stage.get("reason") else None
    if stage.get("status") == "failed":
        return f"failed: {reason}" if reason else "failed"
    return f"not run: {reason}" if reason else "not run"


def _gate_marks(gates: list[dict]) -> dict[str, str]:
    marks: dict[str, str] = {}
    for gate in gates:
        if gate.get("passed") or not gate.get("metric"):
            continue
        if gate.get("kind") == "max_drop":
            marks[gate["metric"] + "#delta"] = f"❌ drop > {gate['threshold']:g}"
        elif gate.get("kind") == "min":
            marks[gate["metric"]] = f"❌ below the minimum {gate['threshold']:g}"
    return marks


def _metric_rows(report: Mapping[str, Any], baseline: Mapping[str, Any] | None,
                 headlines: list[Headline], marks: dict[str, str]) -> list[MetricRow]:
    rows = []
    for headline in headlines:
        value = number(headline.value)
        if headline.path == "core.conversations.accuracy":
            conversations = (report.get("core") or {}).get("conversations") or {}
            value += f" ({conversations.get('correct')}/{conversations.get('total')})"
        previous = lookup_number(baseline, headline.path)
        delta = Delta(headline.value, previous).text if baseline else ""
        value = f"{value} {marks.get(headline.path, '')}".strip()
        delta = f"{delta} {marks.get(headline.path + '#delta', '')}".strip()
        rows.append(MetricRow(headline.label, value, delta))
    return rows


def _task_tables(report: Mapping[str, Any], baseline: Mapping[str, Any] | None,
                 marks: dict[str, str]) -> list[MetricTable]:
    tables: list[MetricTable] = []
    by_task: dict[str, list[Headline]] = {}
    for headline in headline_metrics(report):
        by_task.setdefault(headline.task, []).append(headline)

    def rows(task: str) -> list[MetricRow]:
        return _metric_rows(report, baseline, by_task.get(task, []), marks)

    nlu = report.get("nlu")
    if nlu is None:
        tables.append(MetricTable("NLU", [], _not_run(report, "test_nlu")))
    else:
        evaluated = {title for title, _, _ in classification_tasks(report)}
        for title, _, _ in classification_tasks(report):
            tables.append(MetricTable(title, rows(title)))
        if "Intent classification" not in evaluated:
            tables.insert(0, MetricTable("Intent classification", [],
                                         "not evaluated (the test data has fewer than 2 intents)"))
        if not any(title.startswith("Entities") for title in evaluated):
            tables.append(MetricTable("Entities", [],
                                      "not evaluated (no annotated entities in the test data)"))
        if "Response selection" not in evaluated:
            tables.append(MetricTable("Response selection", [],
                                      "not evaluated (no retrieval intents in the test data)"))
    core = report.get("core")
    if core is None:
        tables.append(MetricTable("Conversations", [], _not_run(report, "test_core")))
    else:
        found = rows("Conversations")
        tables.append(MetricTable("Conversations", found, None if found else "no test stories ran"))
    return tables


def _cross_validation(report: Mapping[str, Any], baseline: Mapping[str, Any] | None,
                      marks: dict[str, str]) -> CrossValidationSection:
    cross = report.get("cross_validation")
    if cross is None:
        return CrossValidationSection(_not_run(report, "cross_validate"), None, [])
    rows = []
    for title, base in cross_validated_tasks(report):
        cells = []
        for metric in ("accuracy", "f1_score", "precision"):
            path = f"{base}.test.{metric}.mean"
            mean = lookup_number(report, path)
            std = lookup_number(report, f"{base}.test.{metric}.std")
            cell = number(mean) + (f" ± {number(std)}" if std is not None else "")
            if baseline and mean is not None:
                cell += f" {Delta(mean, lookup_number(baseline, path)).text}"
            mark = " ".join(filter(None, (marks.get(path), marks.get(path + "#delta"))))
            cells.append(f"{cell} {mark}".strip())
        rows.append(CrossValidationRow(title, *cells))
    folds = cross.get("folds")
    return CrossValidationSection(None if rows else "no task was cross-validated",
                                  f"{folds} folds" if folds else None, rows)


def _label_row(score: LabelScore, with_delta: bool) -> LabelRow:
    return LabelRow(
        name=score.name, f1=number(score.f1), precision=number(score.precision),
        recall=number(score.recall), support="" if score.support is None else str(score.support),
        delta=score.delta.text if with_delta else "",
        confused_with=confused_with_text(score.confused_with),
    )


def _blob_url(report: Mapping[str, Any], path: str | None, line: int | None) -> str | None:
    github = (report.get("run") or {}).get("github") or {}
    commit = (report.get("run") or {}).get("commit")
    if not (path and line and commit and github.get("server_url") and github.get("repository")):
        return None
    return f"{github['server_url']}/{github['repository']}/blob/{commit}/{path}#L{line}"


def _stories(report: Mapping[str, Any], root: Path) -> list[StoryRow]:
    rows = []
    for story in (report.get("core") or {}).get("failed_stories") or []:
        path, line = locate(story.get("file"), report=report, root=root, story=story.get("name"))
        line = story.get("line") if isinstance(story.get("line"), int) else line
        yaml_text = story.get("yaml") or ""
        if len(yaml_text) > MAX_STORY_YAML:
            yaml_text = (yaml_text[:MAX_STORY_YAML].rstrip()
                         + "\n# … (cut: the full story is in the artifacts)")
        step = story.get("failed_step") or {}
        index = step.get("index")
        rows.append(StoryRow(
            name=str(story.get("name") or "unnamed story"),
            where=f"{path}:{line}" if path and line else path,
            link=_blob_url(report, path, line),
            step_index=index if isinstance(index, int) else None,
            step_kind=str(step.get("kind") or "step"),
            expected=None if step.get("expected") is None else str(step["expected"]),
            predicted=None if step.get("predicted") is None else str(step["predicted"]),
            utterance=shorten(step.get("text"), 160) if step.get("text") else None,
            yaml=yaml_text.rstrip("\n"),
        ))
    return rows


def _findings(report: Mapping[str, Any], root: Path, level: str) -> list[FindingRow]:
    rows = []
    for finding in (report.get("validation") or {}).get(level) or []:
        path, _ = locate(finding.get("file"), report=report, root=root)
        line = finding.get("line")
        where = f"{path}:{line}" if path and line else (path or "")
        rows.append(FindingRow(level=finding.get("level") or level.rstrip("s"),
                               code=str(finding.get("code") or ""), where=where,
                               message=shorten(finding.get("message"))))
    return rows


def _stage_rows(report: Mapping[str, Any]) -> list[StageRow]:
    rows = []
    for stage in report.get("stages") or []:
        status = stage.get("status")
        reason = shorten(stage.get("reason"), 160) if stage.get("reason") else ""
        if stage.get("cached"):
            saved = stage.get("saved_s")
            text = f"♻️ cached, saved {duration(saved)}" if saved else "♻️ cached"
        elif status == "passed":
            text = "✅ passed"
        elif status == "failed":
            text = "❌ failed" + (f": {reason}" if reason else "")
        else:
            text = f"⏭️ {status or 'unknown'}" + (f": {reason}" if reason else "")
        rows.append(StageRow(str(stage.get("name")), text, duration(stage.get("duration_s"))))
    return rows


def _image_names(artifacts: Mapping[str, Any]) -> list[str]:
    """Images relative to the results directory ("nlu/intent_histogram.png"): names repeat."""
    results = artifacts.get("results_dir")
    names = []
    for image in artifacts.get("images") or []:
        path = Path(image)
        if results and path.is_relative_to(results):
            names.append(path.relative_to(results).as_posix())
        else:
            names.append(path.name)
    return names


def _gate_rows(gates: list[dict]) -> list[GateRow]:
    ordered = sorted(gates, key=lambda gate: bool(gate.get("passed")))  # failed first
    return [GateRow(bool(gate.get("passed")), bool(gate.get("skipped")), str(gate.get("name")),
                    shorten(gate.get("message"))) for gate in ordered]


def build_summary(report: Mapping[str, Any], baseline: Mapping[str, Any] | None = None, *,
                  gates: list[dict] | None = None, assistant_name: str | None = None,
                  root: Path | None = None) -> SummaryView:
    """The whole summary of one report.

    ``gates`` replaces the gates recorded in the report; ``root`` is the directory the
    report's relative paths start from (default: the current directory).
    """
    root = root or Path.cwd()
    gates = list(report.get("gates") or []) if gates is None else gates
    assistant = report.get("assistant") or {}
    run = report.get("run") or {}
    github = run.get("github") or {}
    name = assistant_name or assistant.get("name") or "assistant"
    failed_gate = any(not gate.get("passed") for gate in gates)
    commit = run.get("commit")
    commit_url = None
    if commit and github.get("server_url") and github.get("repository"):
        commit_url = f"{github['server_url']}/{github['repository']}/commit/{commit}"
    context = [(label, str(value)) for label, value in (
        ("Rasa", run.get("rasa_version")), ("data", assistant.get("data_name")),
        ("configuration", assistant.get("configuration_name"))) if value]
    baseline_commit = ((baseline or {}).get("run") or {}).get("commit")

    marks = _gate_marks(gates)
    has_baseline = baseline is not None
    intents = label_scores((report.get("nlu") or {}).get("intent_classification"),
                           ((baseline or {}).get("nlu") or {}).get("intent_classification"))
    worse = [_label_row(score, True) for score in got_worse(intents)]
    weakest_rows = [_label_row(score, has_baseline) for score in weakest(intents, WEAKEST_INTENTS)]
    conversations = (report.get("core") or {}).get("conversations") or {}
    conversations_note = None
    if conversations:
        conversations_note = (f"{conversations.get('correct')} of {conversations.get('total')} "
                              "test stories passed.")
    stories = _stories(report, root)
    validation_status = None
    if report.get("validation") is None:
        validation_status = _not_run(report, "validate")
    artifacts = report.get("artifacts") or {}
    run_url = github.get("run_url")
    tool = report.get("tool") or {}
    return SummaryView(
        marker=marker(name),
        verdict="failed" if failed_gate or report.get("verdict") != "passed" else "passed",
        assistant=name,
        commit=commit[:7] if commit else None,
        commit_url=commit_url,
        total_time=duration(run.get("duration_s")),
        context=context,
        has_baseline=has_baseline,
        baseline_commit=baseline_commit[:7] if baseline_commit else None,
        gates=_gate_rows(gates),
        tasks=_task_tables(report, baseline, marks),
        cross_validation=_cross_validation(report, baseline, marks),
        worse_intents=CutList("intents that got worse", worse),
        weakest_intents=CutList("weakest intents", weakest_rows),
        intent_count=len(intents),
        conversations_note=conversations_note,
        failed_stories=CutList("failed test stories", stories),
        story_yaml_shown=len(stories),
        validation_status=validation_status,
        validation_errors=CutList("validation errors", _findings(report, root, "errors")),
        validation_warnings=CutList("validation warnings", _findings(report, root, "warnings")),
        stages=_stage_rows(report),
        images=_image_names(artifacts),
        results_dir=artifacts.get("results_dir"),
        run_url=run_url,
        artifacts_url=f"{run_url}#artifacts" if run_url else None,
        tool=f"{tool.get('name', 'ci-toolkit')} {tool.get('version', '')}".strip(),
    )
