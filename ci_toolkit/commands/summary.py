"""`ci-toolkit summary`: Markdown summary of a report, step summary, outputs, sticky PR comment.

The options become one SummaryRequest; ci_toolkit/summary/publish.py does the work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ci_toolkit.commands import option_from
from ci_toolkit.commands.gate_options import GATE_PARAMS, gate_options, gate_settings
from ci_toolkit.github_context import ENV_VARS
from ci_toolkit.summary.publish import DEFAULT_REPORT, SummaryRequest

# Read through GitHubContext.from_environ (not options): the token is a secret, the rest is set
# by the Actions runner.
ENV_VARS_READ: tuple[str, ...] = tuple(name for name in ENV_VARS if name in {
    "GITHUB_TOKEN", "GITHUB_API_URL", "GITHUB_REPOSITORY", "GITHUB_EVENT_PATH",
    "GITHUB_EVENT_NAME", "GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY",
    "GITHUB_WORKSPACE"})


@click.command("summary")
@click.argument("report", type=click.Path(dir_okay=False, path_type=Path),
                default=str(DEFAULT_REPORT), envvar="CI_TOOLKIT_REPORT")
@option_from(SummaryRequest, "output", type=click.Path(dir_okay=False, path_type=Path))
@option_from(SummaryRequest, "html", "--html",
             type=click.Path(dir_okay=False, path_type=Path))
# default=None: unset means "on in GitHub Actions" (a click flag would default to False).
@option_from(SummaryRequest, "step_summary", "--step-summary/--no-step-summary", default=None)
@option_from(SummaryRequest, "comment", "--comment/--no-comment", show_default=False)
@option_from(SummaryRequest, "pr_number", type=click.IntRange(min=1))
@option_from(SummaryRequest, "assistant_name")
@option_from(SummaryRequest, "failure_reason")
@gate_options
def summary(**params: Any) -> None:
    """Render the Markdown summary of a report; post the PR comment.

    Reads REPORT (default reports/report.json), compares it with --baseline, checks the
    gates, and writes the summary to a file, the job summary and, on pull requests, one
    sticky comment. Exits 1 when a gate fails, after everything is written.
    """
    from ci_toolkit.gha import ActionsRuntime
    from ci_toolkit.github_context import GitHubContext
    from ci_toolkit.summary.publish import publish_summary

    request = SummaryRequest(
        **{name: value for name, value in params.items() if name not in GATE_PARAMS},
        gates=gate_settings(params))
    publish_summary(request, context=GitHubContext.from_environ(), actions=ActionsRuntime())
