"""`ci-toolkit summary`: Markdown summary of a report, step summary, outputs, sticky PR comment."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from ci_toolkit.commands.gate_options import gate_options, gate_settings_from
from ci_toolkit.errors import ToolkitError, UsageError

# Read straight from the environment (not options): the token is a secret, the rest is set by
# the Actions runner.
ENV_VARS_READ: tuple[str, ...] = (
    "GITHUB_TOKEN",
    "GITHUB_API_URL",
    "GITHUB_REPOSITORY",
    "GITHUB_EVENT_PATH",
    "GITHUB_EVENT_NAME",
    "GITHUB_ACTIONS",
    "GITHUB_OUTPUT",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_WORKSPACE",
)
PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
DEFAULT_API_URL = "https://api.github.com"


def load_report(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise UsageError(
            f"there is no report at {path}. Run `ci-toolkit run` first (it writes "
            "reports/report.json), or pass the report's path: `ci-toolkit summary PATH`."
        )
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"the report {path} is not valid JSON ({error}). Run the pipeline again "
                         "to rewrite it.") from error
    if not isinstance(report, dict) or not isinstance(report.get("schema_version"), int):
        raise UsageError(f"{path} is not a ci-toolkit report.json (it has no schema_version). "
                         "Pass the report.json that `ci-toolkit run` wrote.")
    return report


def pull_request_number(environ: dict[str, str]) -> int | None:
    """The PR number of a pull_request event, from the event payload the runner wrote."""
    if environ.get("GITHUB_EVENT_NAME") not in PULL_REQUEST_EVENTS:
        return None
    event_path = environ.get("GITHUB_EVENT_PATH")
    if not event_path:
        return None
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    number = (event.get("pull_request") or {}).get("number") if isinstance(event, dict) else None
    return number if isinstance(number, int) else None


def _warn(actions: Any, message: str) -> None:
    click.echo(f"warning: {message}", err=True)
    actions.annotate("warning", message, title="ci-toolkit summary")


def _comment_blocker(environ: dict[str, str]) -> str | None:
    """Why no comment can be posted from this environment, or None."""
    if not environ.get("GITHUB_TOKEN"):
        return ("no PR comment: GITHUB_TOKEN is not set. Add `env: GITHUB_TOKEN: "
                "${{ github.token }}` to the step and `permissions: pull-requests: write` to "
                "the job. The summary is in the job summary.")
    if "/" not in (environ.get("GITHUB_REPOSITORY") or ""):
        return "no PR comment: GITHUB_REPOSITORY (owner/name) is not set."
    return None


@click.command("summary")
@click.argument("report", type=click.Path(dir_okay=False, path_type=Path),
                default="reports/report.json", envvar="CI_TOOLKIT_REPORT")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              envvar="CI_TOOLKIT_OUTPUT", metavar="FILE",
              help="Where to write the Markdown summary. Default: summary.md next to REPORT.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              envvar="CI_TOOLKIT_HTML", metavar="FILE",
              help="Also write a self-contained HTML report (tables and the confusion-matrix and "
                   "histogram pictures embedded) to FILE.")
@click.option("--step-summary/--no-step-summary", default=None, envvar="CI_TOOLKIT_STEP_SUMMARY",
              help="Append the summary to the job summary ($GITHUB_STEP_SUMMARY). Default: on "
                   "in GitHub Actions.")
@click.option("--comment/--no-comment", default=True, envvar="CI_TOOLKIT_PUBLISH_SUMMARY",
              help="Post the summary as one sticky PR comment per assistant, updated in place on "
                   "re-runs (RTT's publish_summary). Needs GITHUB_TOKEN with pull-requests: "
                   "write; only on pull_request events or with --pr-number. A comment that "
                   "cannot be posted is a warning, never a failure.")
@click.option("--pr-number", type=click.IntRange(min=1), default=None,
              envvar="CI_TOOLKIT_PR_NUMBER",
              help="The pull request to comment on. Default: the PR of the pull_request event "
                   "($GITHUB_EVENT_PATH).")
@click.option("--assistant-name", default=None, envvar="CI_TOOLKIT_ASSISTANT_NAME",
              help="Name shown in the summary and in the comment's marker, so each assistant of "
                   "a repository keeps its own comment. Default: the name in the report.")
@gate_options
def summary(report: Path, output: Path | None, html_path: Path | None, step_summary: bool | None,
            comment: bool, pr_number: int | None, assistant_name: str | None,
            **gate_params: Any) -> None:
    """Render the Markdown summary of a report; post the PR comment.

    Reads REPORT (default reports/report.json), compares it with --baseline, checks the
    gates, and writes the summary to a file, the job summary and, on pull requests, one
    sticky comment. Exits 1 when a gate fails, after everything is written.
    """
    from ci_toolkit.gha import ActionsRuntime
    from ci_toolkit.report.gates import evaluate_gates, failed_gates, gate_failure_message
    from ci_toolkit.summary.build import build_summary
    from ci_toolkit.summary.comment import emit_annotations
    from ci_toolkit.summary.markdown import COMMENT_BUDGET, STEP_SUMMARY_BUDGET, render_markdown
    from ci_toolkit.summary.view import SummaryView

    environ = dict(os.environ)
    actions = ActionsRuntime(environ)
    actions.add_mask(environ.get("GITHUB_TOKEN"))
    data = load_report(report)
    settings, baseline = gate_settings_from(**gate_params)
    # Gates given here are checked now; otherwise the summary shows those `run` recorded.
    if settings.configured:
        gates = evaluate_gates(data, baseline, settings)
    else:
        gates = list(data.get("gates") or [])

    def render(budget: int | None) -> tuple[SummaryView, str]:
        # A fresh view each time: cutting to a budget shortens the view's lists in place.
        view = build_summary(data, baseline, gates=gates, assistant_name=assistant_name)
        return view, render_markdown(view, budget)

    view, markdown = render(None)  # the file keeps everything
    # Nothing is lost: every file is written before anything remote is tried.
    output = output or report.parent / "summary.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(markdown, encoding="utf-8")
    click.echo(f"Summary written to {output} ({len(markdown)} characters).", err=True)
    if html_path is not None:
        from ci_toolkit.summary.html import write_html_report

        write_html_report(html_path, view, data, root=Path.cwd())
        click.echo(f"HTML report written to {html_path}.", err=True)
    if not actions.active:
        click.echo(markdown)
    if step_summary is None:
        step_summary = actions.active
    if step_summary:
        text = markdown if len(markdown) <= STEP_SUMMARY_BUDGET else render(STEP_SUMMARY_BUDGET)[1]
        if not actions.append_step_summary(text):
            _warn(actions, "--step-summary is on, but GITHUB_STEP_SUMMARY is not set.")
    actions.set_outputs({"summary_path": str(output), "verdict": view.verdict,
                         "gates": json.dumps(gates, sort_keys=True)})
    emit_annotations(data, actions)

    number = pr_number or pull_request_number(environ)
    blocker = _comment_blocker(environ) if comment and number is not None else None
    if blocker:
        _warn(actions, blocker)
    elif comment and number is not None:
        from github import Auth, Github, GithubRetry

        from ci_toolkit.summary.comment import publish_sticky_comment

        token = environ["GITHUB_TOKEN"]
        api_url = (environ.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
        # Retry only reads: a retried POST could leave two comments. A handful of serial
        # requests needs none of PyGithub's pacing between requests.
        gh = Github(base_url=api_url, auth=Auth.Token(token), per_page=100, timeout=20,
                    lazy=True, seconds_between_requests=None, seconds_between_writes=None,
                    retry=GithubRetry(total=2, backoff_factor=0.5, raise_on_status=False,
                                      allowed_methods=frozenset({"GET"})))
        outcome = publish_sticky_comment(
            gh, repository=environ["GITHUB_REPOSITORY"], pr_number=number,
            body=render(COMMENT_BUDGET)[1], marker=view.marker, api_url=api_url,
            secrets=(token,))
        if outcome.ok:
            click.echo(f"PR comment {outcome.action}: {outcome.url}", err=True)
        else:
            _warn(actions, f"the PR comment was not posted: {outcome.reason}")
    elif comment and actions.active:
        click.echo("No pull request (push or other event): no PR comment, the summary is in "
                   "the job summary.", err=True)

    if failed_gates(gates) and settings.configured:
        raise ToolkitError(gate_failure_message(gates))
