"""Assemble report.json (docs/report-schema.md) and its RTT-compatible view."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ci_toolkit import __version__
from ci_toolkit.pipeline.run import PipelineRun
from ci_toolkit.pipeline.settings import STAGE_NAMES
from ci_toolkit.rasa import reports

SCHEMA_VERSION = 1
REPORT_FILE = "report.json"
RTT_REPORT_FILE = "report-rtt.json"


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def _commit(environ: Mapping[str, str], project_dir: Path) -> str | None:
    if environ.get("GITHUB_SHA"):
        return environ["GITHUB_SHA"]
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project_dir, capture_output=True,
                              text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _github(environ: Mapping[str, str]) -> dict[str, str] | None:
    if environ.get("GITHUB_ACTIONS") != "true" or not environ.get("GITHUB_RUN_ID"):
        return None
    server = environ.get("GITHUB_SERVER_URL", "https://github.com")
    repository = environ.get("GITHUB_REPOSITORY", "")
    run_id = environ["GITHUB_RUN_ID"]
    return {"server_url": server, "repository": repository, "run_id": run_id,
            "run_url": f"{server}/{repository}/actions/runs/{run_id}"}


def _relative(path: Path | str | None) -> str | None:
    if path is None:
        return None
    path = Path(path)
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def rtt_task(classification: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """One task in RTT's shape: accuracy and the three averages with rasa's key names."""
    if not classification:
        return None

    def average(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if values is None:
            return None
        return {"precision": values["precision"], "recall": values["recall"],
                "f1-score": values["f1_score"], "support": values["support"]}

    task = {"accuracy": classification.get("accuracy")}
    for key in ("weighted_avg", "macro_avg", "micro_avg"):
        if classification.get(key) is not None:
            task[key] = average(classification[key])
    return task


def rtt_view(report: Mapping[str, Any]) -> dict[str, Any]:
    nlu = report.get("nlu") or {}
    core = report.get("core") or {}
    cross = report.get("cross_validation") or {}
    # RTT read whatever rasa left in the results dir: the CV reports when cross-validating.
    intent = nlu.get("intent_classification") or (
        (cross.get("intent_classification") or {}).get("pooled"))
    entities = nlu.get("entity_extraction") or {
        name: value["pooled"] for name, value in (cross.get("entity_extraction") or {}).items()
        if value and value.get("pooled")
    }
    entity = entities.get("DIETClassifier") or next(iter(entities.values()), None)
    response = nlu.get("response_selection") or (
        (cross.get("response_selection") or {}).get("pooled"))
    tasks = {
        "intent_classification": rtt_task(intent),
        "entity_prediction": rtt_task(entity),
        "response_selection": rtt_task(response),
        "story_prediction": rtt_task(core.get("story_prediction")),
    }
    assistant = report["assistant"]
    return {assistant["data_name"]: {assistant["configuration_name"]: {
        task: values for task, values in tasks.items() if values is not None}}}


def build_report(run: PipelineRun, *, environ: Mapping[str, str]) -> dict[str, Any]:
    s = run.settings
    results = run.results

    def section(stage: str, key: str) -> Any:
        # A failed stage keeps what it found (validation findings); others have no data.
        result = results.get(stage)
        return result.data.get(key) if result is not None else None

    stage_list = []
    for name in STAGE_NAMES:
        result = results.get(name)
        if result is None:
            continue
        stage_list.append({
            "name": name,
            "status": result.status,
            "cached": result.cached,
            "duration_s": round(result.duration_s, 3),
            "saved_s": round(result.saved_s, 3) if result.saved_s is not None else None,
            "reason": result.reason,
            "log_file": _relative(result.log_file),
            "fingerprint": result.fingerprint,
        })
    model = dict(run.model) if run.model else None
    if model:
        model["path"] = _relative(model["path"])
    results_root = s.results_root
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "ci-toolkit", "version": __version__},
        "assistant": {
            "name": s.assistant_name or run.project.name,
            "project_dir": _relative(run.project.root),
            "data_name": s.data_name,
            "configuration_name": s.configuration_label,
        },
        "run": {
            "commit": _commit(environ, run.project.root),
            "ref": environ.get("GITHUB_REF") or None,
            "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at),
            "duration_s": round(run.finished_at - run.started_at, 3),
            "rasa_version": run.rasa_version,
            "github": _github(environ),
        },
        "verdict": "passed" if run.passed else "failed",
        "stages": stage_list,
        "model": model,
        "validation": section("validate", "validation"),
        "nlu": section("test_nlu", "nlu"),
        "core": section("test_core", "core"),
        "cross_validation": section("cross_validate", "cross_validation"),
        "artifacts": {
            "results_dir": _relative(results_root),
            "images": ([_relative(p) for p in reports.images(results_root)]
                       if results_root.exists() else []),
            "logs": [_relative(r.log_file) for r in results.values() if r.log_file],
        },
        "gates": [],
    }
    report["rtt"] = rtt_view(report)
    return report


def write_json(path: Path, content: Any) -> Path:
    """Write atomically, so a crash never leaves half a report behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    staging.replace(path)
    return path


def write_report(report: Mapping[str, Any], report_dir: Path) -> Path:
    write_json(report_dir / RTT_REPORT_FILE, report["rtt"])
    return write_json(report_dir / REPORT_FILE, report)
