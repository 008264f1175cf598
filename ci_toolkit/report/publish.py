"""The end of `ci-toolkit run`: the report, its gates, report.json, the table, the outputs.

Nothing is lost: report.json is written before anything else is tried.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from typing import TYPE_CHECKING

import click

from ci_toolkit.errors import EXIT_FAILED, EXIT_OK
from ci_toolkit.pipeline.result_table import render_table
from ci_toolkit.report.action_results import with_actions
from ci_toolkit.report.build import (
    build_report,
    collect_artifacts,
    redact_report,
    write_report,
)
from ci_toolkit.report.gates import GateSettings, evaluate_gates
from ci_toolkit.report.model import Report, Verdict

if TYPE_CHECKING:
    from ci_toolkit.gha import ActionsRuntime
    from ci_toolkit.github_context import GitHubContext
    from ci_toolkit.pipeline.run import PipelineRun


def judge(report: Report, *, gates: GateSettings | None, baseline: Report | None) -> Report:
    """The report with its gates checked; a failed gate fails the verdict."""
    if gates is None or not gates.configured:
        return report
    results = evaluate_gates(report, baseline, gates)
    verdict = report.verdict if all(gate.passed for gate in results) else Verdict.FAILED
    return replace(report, gates=results, verdict=verdict)


def run_outputs(report: Report, report_path: str) -> dict[str, str]:
    """The step outputs of a run (action.yml); ``report`` is RTT's, for `fromJSON` gates."""
    return {
        "report": json.dumps(report.rtt, separators=(",", ":")),
        "report_path": report_path,
        "model_path": report.model.path if report.model else "",
        "model_name": report.model.name if report.model else "",
        "verdict": report.verdict.value,
    }


def publish_run(run: PipelineRun, *, gates: GateSettings | None, baseline: Report | None,
                context: GitHubContext, actions: ActionsRuntime) -> int:
    """Build and judge the report of a finished run, write it, show it; the exit code."""
    report = build_report(run, commit=context.commit_sha(run.project.root), context=context,
                          artifacts=collect_artifacts(run))
    # The action server's contract tests ran before the pipeline (`ci-toolkit actions test`):
    # their results join the report here, so the gates judge them with everything else.
    report = with_actions(report, gates.actions_results if gates is not None else None)
    # A secret that rasa echoed into a message or a story reaches neither report.json nor
    # the table nor the outputs: the run's redactor (ActionsRuntime.redact) removes it.
    report = redact_report(judge(report, gates=gates, baseline=baseline), actions.redact)
    # The report is written before anything remote is tried: nothing is lost.
    path = write_report(report, run.settings.reports_root, redact=actions.redact)
    click.echo(render_table(report, report_path=os.path.relpath(path)))
    if actions.active:
        # Annotations come from `ci-toolkit summary`, which every workflow runs next.
        actions.set_outputs(run_outputs(report, str(path)))
    return EXIT_OK if report.passed else EXIT_FAILED
