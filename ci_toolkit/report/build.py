"""Assemble report.json (docs/report-schema.md) and its RTT-compatible view."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ci_toolkit import __version__
from ci_toolkit.pipeline.registry import STAGE_NAMES
from ci_toolkit.rasa import reports
from ci_toolkit.report.model import (
    SCHEMA_VERSION,
    Artifacts,
    Assistant,
    Classification,
    Core,
    CrossValidated,
    CrossValidation,
    GitHubRun,
    ModelInfo,
    Nlu,
    Report,
    RunInfo,
    StageRecord,
    Status,
    Tool,
    Validation,
    Verdict,
)

if TYPE_CHECKING:
    from ci_toolkit.github_context import GitHubContext
    from ci_toolkit.pipeline.run import PipelineRun

__all__ = ["SCHEMA_VERSION", "build_report", "collect_artifacts", "rtt_view", "write_report"]
REPORT_FILE = "report.json"
RTT_REPORT_FILE = "report-rtt.json"


def iso_time(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def github_run(context: GitHubContext) -> GitHubRun | None:
    if not context.actions or not context.run_id:
        return None
    run_url = f"{context.server_url}/{context.repository}/actions/runs/{context.run_id}"
    return GitHubRun(server_url=context.server_url, repository=context.repository,
                     run_id=context.run_id, run_url=context.run_url or run_url)


def relative_path(path: Path | str | None) -> str | None:
    if path is None:
        return None
    path = Path(path)
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def rtt_task(classification: Classification | None) -> dict[str, Any] | None:
    """One task in RTT's shape: accuracy and the three averages with rasa's key names."""
    if classification is None:
        return None
    task: dict[str, Any] = {"accuracy": classification.accuracy}
    for key in ("weighted_avg", "macro_avg", "micro_avg"):
        values = getattr(classification, key)
        if values is not None:
            task[key] = {"precision": values.precision, "recall": values.recall,
                         "f1-score": values.f1_score, "support": values.support}
    return task


def rtt_view(report: Report) -> dict[str, Any]:
    """The `report` output in rasa-train-test-gha's shape (docs/actions.md).

    With cross-validation, RTT ran ``rasa test nlu --cross-validation`` and read the reports
    it left in the results directory: the folds' pooled predictions. So a cross-validated
    task holds the pooled cross-validation numbers here, and existing ``fromJSON(...)`` gates
    keep their meaning; a task cross-validation did not cover keeps the plain test's numbers.
    """
    nlu = report.nlu or Nlu()
    cross = report.cross_validation or CrossValidation(folds=0)
    cross_entities = {name: value.pooled for name, value in cross.entity_extraction.items()
                      if value.pooled is not None}
    tasks = {
        "intent_classification": rtt_task(
            _pooled(cross.intent_classification) or nlu.intent_classification),
        "entity_prediction": rtt_task(_entity(cross_entities) or _entity(nlu.entity_extraction)),
        "response_selection": rtt_task(
            _pooled(cross.response_selection) or nlu.response_selection),
        "story_prediction": rtt_task(report.core.story_prediction if report.core else None),
    }
    assistant = report.assistant
    return {assistant.data_name: {assistant.configuration_name: {
        task: values for task, values in tasks.items() if values is not None}}}


def _entity(extractors: dict[str, Classification]) -> Classification | None:
    """RTT's entity_prediction: DIETClassifier's report, else the first extractor's."""
    return extractors.get("DIETClassifier") or next(iter(extractors.values()), None)


def _pooled(task: CrossValidated | None) -> Classification | None:
    return task.pooled if task is not None else None


def collect_artifacts(run: PipelineRun) -> Artifacts:
    """The files a run left: rasa's result directory, its pictures and the stage logs."""
    results_root = run.settings.results_root
    return Artifacts(
        results_dir=relative_path(results_root) or "",
        # Only the directories this run wrote or restored: another stage's pictures are an
        # earlier run's.
        images=[relative_path(p) or "" for p in reports.images(results_root,
                                                            only=run.artifact_dirs())],
        logs=[relative_path(r.log_file) or "" for r in run.results.values() if r.log_file],
    )


def _stage_records(run: PipelineRun) -> list[StageRecord]:
    return [StageRecord(
        name=name, status=Status(result.status), cached=result.cached,
        duration_s=round(result.duration_s, 3),
        saved_s=round(result.saved_s, 3) if result.saved_s is not None else None,
        reason=result.reason, log_file=relative_path(result.log_file),
        fingerprint=result.fingerprint,
    ) for name in STAGE_NAMES if (result := run.results.get(name)) is not None]


def build_report(run: PipelineRun, *, commit: str | None, context: GitHubContext,
                 artifacts: Artifacts) -> Report:
    """The report of a run. ``commit`` is the commit it built (GitHubContext.commit_sha)."""
    s = run.settings

    def section(stage: str, key: str) -> Any:
        # A failed stage keeps what it found (validation findings); others have no data.
        result = run.results.get(stage)
        return result.data.get(key) if result is not None else None

    model = dict(run.model) if run.model else None
    if model:
        model["path"] = relative_path(model["path"])
    validation, nlu = section("validate", "validation"), section("test_nlu", "nlu")
    core, cross = section("test_core", "core"), section("cross_validate", "cross_validation")
    report = Report(
        tool=Tool(name="ci-toolkit", version=__version__),
        assistant=Assistant(name=s.assistant_name or run.project.name,
                            project_dir=relative_path(run.project.root) or ".",
                            data_name=s.data_name, configuration_name=s.configuration_label),
        run=RunInfo(commit=commit, ref=context.ref or None, started_at=iso_time(run.started_at),
                    finished_at=iso_time(run.finished_at),
                    duration_s=round(run.finished_at - run.started_at, 3),
                    rasa_version=run.rasa_version, github=github_run(context)),
        verdict=Verdict.PASSED if run.passed else Verdict.FAILED,
        stages=_stage_records(run),
        model=ModelInfo.from_dict(model) if model else None,
        validation=Validation.from_dict(validation) if validation is not None else None,
        nlu=Nlu.from_dict(nlu) if nlu is not None else None,
        core=Core.from_dict(core) if core is not None else None,
        cross_validation=CrossValidation.from_dict(cross) if cross is not None else None,
        artifacts=artifacts,
    )
    return replace(report, rtt=rtt_view(report))


def write_json(path: Path, content: Any) -> Path:
    """Write atomically, so a crash never leaves half a report behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    staging.replace(path)
    return path


def redact_json(value: Any, redact: Callable[[str], str]) -> Any:
    """``value`` with every string redacted, keys too (intent and story names are keys).

    Data, not the JSON text, is redacted: replacing text inside an escape sequence could
    leave a file that is no longer JSON.
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_json(key, redact): redact_json(item, redact) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_json(item, redact) for item in value]
    return value


def redact_report(report: Report, redact: Callable[[str], str]) -> Report:
    """The report with every secret redacted, for everything shown or written from it."""
    return Report.from_dict(redact_json(report.to_dict(), redact))


def write_report(report: Report, report_dir: Path, *, redact: Callable[[str], str]) -> Path:
    """report.json and report-rtt.json, with every secret of the run redacted (``redact``:
    usually ActionsRuntime.redact, which knows the environment's secrets)."""
    write_json(report_dir / RTT_REPORT_FILE, redact_json(report.rtt, redact))
    return write_json(report_dir / REPORT_FILE, redact_json(report.to_dict(), redact))
