"""report.json for the commands that run outside `ci-toolkit run`: `ci-toolkit merge` (of
cross-validation or comparison shards) and `ci-toolkit compare`.

Such a report is complete (it validates against the schema and `ci-toolkit summary` renders
it): the tasks the command did not run are null, as for a run that skipped them. The commit,
the GitHub context and the artifacts come from the caller, as they do for `ci-toolkit run`
(report/build.py); nothing here looks them up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ci_toolkit import __version__
from ci_toolkit.report.build import github_run, iso_time, redact_json, rtt_view, write_json
from ci_toolkit.report.load import load_report
from ci_toolkit.report.model import (
    Artifacts,
    Assistant,
    Comparison,
    CrossValidation,
    Report,
    RunInfo,
    StageRecord,
    Status,
    Tool,
    Verdict,
)

if TYPE_CHECKING:
    from ci_toolkit.github_context import GitHubContext


@dataclass(frozen=True)
class Provenance:
    """Where a report comes from: the commit and context it belongs to, what it left."""

    commit: str | None
    context: GitHubContext
    artifacts: Artifacts = field(default_factory=Artifacts)
    rasa_version: str | None = None
    assistant_name: str = ""
    started_at: float = field(default_factory=time.time)


def base_report(provenance: Provenance) -> Report:
    """A passed report with no task run: the frame the command's section goes into."""
    finished = time.time()
    return Report(
        tool=Tool(name="ci-toolkit", version=__version__),
        assistant=Assistant(name=provenance.assistant_name, project_dir=".",
                            configuration_name=""),
        run=RunInfo(commit=provenance.commit, ref=provenance.context.ref or None,
                    started_at=iso_time(provenance.started_at), finished_at=iso_time(finished),
                    duration_s=round(max(0.0, finished - provenance.started_at), 3),
                    rasa_version=provenance.rasa_version,
                    github=github_run(provenance.context)),
        verdict=Verdict.PASSED,
        artifacts=provenance.artifacts,
    )


def merged_cross_validation_report(section: Mapping[str, Any], provenance: Provenance
                                   ) -> Report:
    """The report of a sharded cross-validation: the merged section, a passed
    `cross_validate` stage (the merge refuses incomplete shards) and the RTT view."""
    report = replace(
        base_report(provenance),
        stages=[StageRecord(name="cross_validate", status=Status.PASSED,
                            duration_s=round(max(0.0, time.time() - provenance.started_at), 3))],
        cross_validation=CrossValidation.from_dict(section))
    return replace(report, rtt=rtt_view(report))


def write_cross_validation(path: Path, section: Mapping[str, Any], provenance: Provenance, *,
                           redact: Callable[[str], str]) -> Path:
    """Put a merged cross-validation into the report at ``path``: an existing report keeps
    everything else (its verdict too) and gets the section and the stage record in place of
    any it had; otherwise the report of the merge alone is written."""
    merged = merged_cross_validation_report(section, provenance)
    if path.exists():
        existing = load_report(path)
        stages = [s for s in existing.stages if s.name != "cross_validate"] + merged.stages
        merged = replace(existing, stages=stages, cross_validation=merged.cross_validation)
        merged = replace(merged, rtt=rtt_view(merged))
    return write_report_file(path, merged, redact=redact)


def with_comparison(report: Report, section: Mapping[str, Any]) -> Report:
    return replace(report, comparison=Comparison.from_dict(section))


def write_comparison(path: Path, section: Mapping[str, Any], provenance: Provenance, *,
                     redact: Callable[[str], str]) -> Path:
    """Put the comparison into the report at ``path``: an existing report (e.g. the one
    `ci-toolkit run` wrote in the same job) keeps everything else; otherwise a complete
    report with only the comparison is written."""
    if path.exists():
        report = load_report(path)
    else:
        report = base_report(provenance)
        report = replace(report, rtt=rtt_view(report))
    return write_report_file(path, with_comparison(report, section), redact=redact)


def write_report_file(path: Path, report: Report, *, redact: Callable[[str], str]) -> Path:
    """report.json at a path of the user's choosing, every secret of the job redacted."""
    return write_json(path, redact_json(report.to_dict(), redact))
