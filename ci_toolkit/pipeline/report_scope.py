"""A narrower run never silently replaces the report of a fuller one.

Two rules, both decided here so that the end of a run (ci_toolkit/report/publish.py) stays
one write:

- A single-stage command (`validate`, `train`, `test`, `cross-validate`) writes its report
  beside the pipeline's, in ``PROJECT/reports/<command>/``, unless --report-dir says
  otherwise: ``reports/report.json`` keeps the last `ci-toolkit run` (single_stage_report_dir).
- A run that ran fewer stages than the report it is about to replace (a `run` with stages
  switched off, or a single-stage command given the same --report-dir) keeps the previous
  report as ``report-previous.json`` and says which stages' sections it no longer holds
  (keep_fuller_report, called after the run and before the report is written).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ci_toolkit.pipeline.registry import LABELS, STAGE_NAMES

if TYPE_CHECKING:
    from ci_toolkit.pipeline.run import PipelineRun

REPORT_FILE = "report.json"  # ci_toolkit/report/build.py writes it under this name
PREVIOUS_REPORT_FILE = "report-previous.json"
SKIPPED = "skipped"


def single_stage_report_dir(project_dir: Path, command: str) -> Path:
    """Where a single-stage command's report goes when --report-dir is not given."""
    return project_dir / "reports" / command


def _listing(stages: Iterable[str]) -> str:
    names = [LABELS[name] for name in STAGE_NAMES if name in set(stages)]
    if len(names) < 2:
        return "".join(names) or "no stage"
    return f"{', '.join(names[:-1])} and {names[-1]}"


def stages_in_report(path: Path) -> set[str]:
    """The stages that ran (passed, failed or were restored) in the report at ``path``;
    empty when there is none or it cannot be read (then there is nothing to keep)."""
    try:
        stages = json.loads(path.read_text(encoding="utf-8")).get("stages")
    except (OSError, ValueError, AttributeError):
        return set()
    if not isinstance(stages, list):
        return set()
    return {stage.get("name") for stage in stages
            if isinstance(stage, dict) and stage.get("status") not in (None, SKIPPED)
            and stage.get("name") in STAGE_NAMES}


def keep_fuller_report(run: PipelineRun) -> str | None:
    """Before the run's report replaces REPORT_DIR/report.json: if that report holds stages
    this run did not run, copy it to report-previous.json and return the notice to print;
    None when nothing would be lost."""
    path = run.settings.reports_root / REPORT_FILE
    before = stages_in_report(path)
    now = {name for name, result in run.results.items() if result.status != SKIPPED}
    dropped = before - now
    if not dropped:
        return None
    previous = path.with_name(PREVIOUS_REPORT_FILE)
    try:
        shutil.copy2(path, previous)
        kept = f"The previous report is kept as {os.path.relpath(previous)}."
    except OSError as error:
        kept = f"The previous report could not be kept ({error})."
    return (f"{os.path.relpath(path)} held the results of {_listing(before)}; this run ran "
            f"{_listing(now)}, so the new report no longer has the sections of "
            f"{_listing(dropped)}. {kept}")
