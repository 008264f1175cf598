"""`ci-toolkit summary` end to end: the files, the job summary, the outputs, the PR comment.

Nothing is lost: every file is written before anything remote is tried, and a comment that
cannot be posted is a warning, never a failure. The command (ci_toolkit/commands/summary.py)
only parses its options into a SummaryRequest and calls ``publish_summary``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.escape import safe_url
from ci_toolkit.options import setting
from ci_toolkit.report.action_results import with_actions
from ci_toolkit.report.baseline import read_baseline
from ci_toolkit.report.gates import (
    GateSettings,
    evaluate_gates,
    failed_gates,
    gate_failure_message,
)
from ci_toolkit.report.load import load_report
from ci_toolkit.summary.annotations import emit_annotations
from ci_toolkit.summary.build import build_summary
from ci_toolkit.summary.markdown import COMMENT_BUDGET, STEP_SUMMARY_BUDGET, render_markdown
from ci_toolkit.summary.stopped import head_commit, stopped_assistant_name, stopped_markdown

if TYPE_CHECKING:
    from github import Github

    from ci_toolkit.gha import ActionsRuntime
    from ci_toolkit.github_context import GitHubContext
    from ci_toolkit.report.model import GateResult, Report
    from ci_toolkit.summary.view import SummaryView

DEFAULT_REPORT = Path("reports/report.json")
# Makes the GitHub client from (token, API URL): the real one, or a test's.
Connect = Callable[[str, str], "Github"]


@dataclass(frozen=True)
class SummaryRequest:
    """The options of `ci-toolkit summary`, declared once (ci_toolkit/options.py)."""

    report: Path = setting(DEFAULT_REPORT, envvar="REPORT", help="The report.json to summarise.")
    output: Path | None = setting(
        None, envvar="OUTPUT", metavar="FILE",
        help="Where to write the Markdown summary. Default: summary.md next to REPORT.")
    html: Path | None = setting(
        None, envvar="HTML", metavar="FILE",
        help="Also write a self-contained HTML report (tables and the confusion-matrix and "
             "histogram pictures embedded) to FILE.")
    step_summary: bool | None = setting(
        None, envvar="STEP_SUMMARY",
        help="Append the summary to the job summary ($GITHUB_STEP_SUMMARY). Default: on in "
             "GitHub Actions.")
    comment: bool = setting(
        True, envvar="PUBLISH_SUMMARY",
        help="Post the summary as one sticky PR comment per assistant, updated in place on "
             "re-runs (RTT's publish_summary). Needs GITHUB_TOKEN with pull-requests: write; "
             "only on pull_request events or with --pr-number. A comment that cannot be "
             "posted is a warning, never a failure.")
    pr_number: int | None = setting(
        None, envvar="PR_NUMBER",
        help="The pull request to comment on. Default: the PR of the pull_request event "
             "($GITHUB_EVENT_PATH).")
    assistant_name: str | None = setting(
        None, envvar="ASSISTANT_NAME",
        help="Name shown in the summary and in the comment's marker, so each assistant of a "
             "repository keeps its own comment. Default: the name in the report.")
    failure_reason: str | None = setting(
        None, envvar="FAILURE_REASON", metavar="TEXT",
        help="The pipeline stopped before it wrote a report, for this reason: REPORT is not "
             "read (a file there is an earlier run's), the job summary and the PR comment "
             "become a short ❌ with the reason, and the command fails. A missing REPORT "
             "does the same with a pointer to the job log.")
    gates: GateSettings = field(default_factory=GateSettings)


@dataclass(frozen=True)
class Rendering:
    """Renders the summary to a size budget; each call builds a fresh view, because cutting
    to a budget shortens the view's lists in place."""

    report: Report
    baseline: Report | None
    gates: list[GateResult]
    assistant_name: str | None
    head_commit: str | None = None  # a PR's head commit, named instead of the merge commit

    def view(self) -> SummaryView:
        return build_summary(self.report, self.baseline, gates=self.gates,
                             assistant_name=self.assistant_name, head_commit=self.head_commit)

    def markdown(self, budget: int | None) -> str:
        return render_markdown(self.view(), budget)


def _warn(actions: ActionsRuntime, message: str) -> None:
    actions.warn(message, title="ci-toolkit summary")


def pull_request_number(context: GitHubContext) -> int | None:
    """The PR number of a pull_request event, from the event payload the runner wrote."""
    if not context.is_pull_request:
        return None
    pull_request = context.event().get("pull_request")
    number = pull_request.get("number") if isinstance(pull_request, dict) else None
    return number if isinstance(number, int) and not isinstance(number, bool) else None


def _comment_blocker(context: GitHubContext) -> str | None:
    """Why no comment can be posted from this environment, or None."""
    if not context.token:
        return ("no PR comment: GITHUB_TOKEN is not set. Add `env: GITHUB_TOKEN: "
                "${{ github.token }}` to the step and `permissions: pull-requests: write` to "
                "the job. The summary is in the job summary.")
    if "/" not in context.repository:
        return "no PR comment: GITHUB_REPOSITORY (owner/name) is not set."
    problem = _api_url_problem(context.api_url)
    if problem:
        return (f"no PR comment: GITHUB_API_URL '{context.api_url}' {problem}. "
                "Leave it unset for github.com; on GitHub Enterprise Server it is "
                "https://HOST/api/v3 (the runner sets it).")
    return None


def _api_url_problem(url: str) -> str | None:
    """What is wrong with GITHUB_API_URL, or None. PyGithub raises ValueError deep inside for
    a bad port, and would send user:password@ along: both are refused before it runs."""
    if safe_url(url) is None:
        return "is not an http(s) URL"
    parts = urlsplit(url.strip())
    try:
        # Raises ValueError for a port that is no number or above 65535.
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        return "has an invalid port (a number from 1 to 65535)"
    if parts.username is not None or parts.password is not None:
        return "contains credentials (user:password@); the token comes from GITHUB_TOKEN"
    if not parts.hostname:
        return "has no host name"
    return None


def github_client(token: str, api_url: str) -> Github:
    """The one PyGithub client of a summary run."""
    from github import Auth, Github, GithubRetry

    # Retry only reads: a retried POST could leave two comments. A handful of serial
    # requests needs none of PyGithub's pacing between requests.
    return Github(base_url=api_url, auth=Auth.Token(token), per_page=100, timeout=20,
                  lazy=True, seconds_between_requests=None, seconds_between_writes=None,
                  retry=GithubRetry(total=2, backoff_factor=0.5, raise_on_status=False,
                                    allowed_methods=frozenset({"GET"})))


def _redacted(markdown: str, actions: ActionsRuntime) -> str:
    """The summary through the run's redactor (the report may quote a secret), all but its
    first line: the marker must stay intact, or the sticky comment is never found again."""
    marker, _, rest = markdown.partition("\n")
    return f"{marker}\n{actions.redact(rest)}"


def _write_text(path: Path, text: str, option: str) -> None:
    """Write a file the user named; a path that cannot be written is a usage error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        blocker = next((parent for parent in path.parents if parent.exists()), None)
        why = (f"{blocker} is a file, not a directory"
               if blocker is not None and not blocker.is_dir() else error.strerror or error)
        raise UsageError(f"cannot write {path} ({why}). Choose another {option} path.") from None


def _write_files(request: SummaryRequest, rendering: Rendering, actions: ActionsRuntime
                 ) -> tuple[Path, SummaryView, str]:
    view = rendering.view()
    markdown = _redacted(render_markdown(view, None), actions)  # the file keeps everything
    output = request.output or request.report.parent / "summary.md"
    _write_text(output, markdown, "--output")
    click.echo(f"Summary written to {output} ({len(markdown)} characters).", err=True)
    if request.html is not None:
        from ci_toolkit.summary.html import html_report

        page = html_report(view, rendering.report, root=Path.cwd())
        _write_text(request.html, actions.redact(page), "--html")
        click.echo(f"HTML report written to {request.html}.", err=True)
    if not actions.active:
        click.echo(markdown)
    step_summary = actions.active if request.step_summary is None else request.step_summary
    if step_summary and not actions.environ.get("GITHUB_STEP_SUMMARY"):
        _warn(actions, "--step-summary is on, but GITHUB_STEP_SUMMARY is not set.")
    elif step_summary:
        # A job summary that cannot be written is a warning (said by append_step_summary).
        actions.append_step_summary(markdown if len(markdown) <= STEP_SUMMARY_BUDGET
                                    else rendering.markdown(STEP_SUMMARY_BUDGET))
    return output, view, markdown


def _comment(request: SummaryRequest, body: Callable[[], str], marker: str, *,
             context: GitHubContext, actions: ActionsRuntime, connect: Connect) -> None:
    """Post ``body()`` (rendered only when a comment is really posted) as the sticky comment."""
    from ci_toolkit.summary.comment import publish_sticky_comment

    number = request.pr_number or pull_request_number(context)
    if not request.comment:
        return
    if number is None:
        if actions.active:
            click.echo("No pull request (push or other event): no PR comment, the summary is "
                       "in the job summary.", err=True)
        return
    blocker = _comment_blocker(context)
    if blocker:
        _warn(actions, blocker)
        return
    outcome = publish_sticky_comment(
        connect(context.token, context.api_url), repository=context.repository,
        pr_number=number, body=_redacted(body(), actions),
        marker=marker, api_url=context.api_url, secrets=(context.token,))
    if outcome.ok:
        click.echo(f"PR comment {outcome.action}: {outcome.url}", err=True)
    else:
        _warn(actions, f"the PR comment was not posted: {outcome.reason}")


def _same_file(first: Path, second: Path) -> bool:
    if first.resolve() == second.resolve():
        return True
    try:  # a hard link, or a path spelled through a symlinked directory
        return first.exists() and second.exists() and first.samefile(second)
    except OSError:
        return False


def check_paths(request: SummaryRequest, actions: ActionsRuntime) -> None:
    """Before anything is written: no output may overwrite an input (the report, the baseline)
    or another output, or data is lost (a report replaced by its own Markdown)."""
    inputs = {"REPORT": request.report, "--baseline": request.gates.baseline,
              "--actions-results": request.gates.actions_results}
    outputs = {"--output": request.output or request.report.parent / "summary.md",
               "--html": request.html}
    outputs.update({name: Path(actions.environ[name]) for name in (
        "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT") if actions.active and actions.environ.get(name)})
    named = [(name, path) for name, path in (*inputs.items(), *outputs.items()) if path]
    for index, (name, path) in enumerate(named):
        if name not in outputs:
            continue
        for other_name, other in named[:index]:
            if _same_file(path, other):
                harm = ("the two would overwrite each other" if other_name in outputs
                        else f"writing it would destroy {other_name}")
                raise UsageError(f"{name} {path} is the same file as {other_name} {other}: "
                                 f"{harm}. Choose another {name} path.")


def publish_summary(request: SummaryRequest, *, context: GitHubContext,
                    actions: ActionsRuntime, connect: Connect = github_client) -> None:
    """Render, write and post the summary of one report. Raises ToolkitError when a gate
    given in ``request.gates`` fails, after everything is written."""
    check_paths(request, actions)
    actions.add_mask(context.token or None)
    # Later steps read the outputs: a $GITHUB_OUTPUT that cannot be written fails now.
    actions.check_output_file()
    if request.failure_reason or not request.report.exists():
        _report_missing(request, context=context, actions=actions, connect=connect)
        if request.failure_reason:
            raise ToolkitError(f"the pipeline stopped before it wrote a report: "
                               f"{request.failure_reason}. The log of the failed step says "
                               "what to fix; the PR comment says so until the next run.")
    settings = request.gates
    # Results given here replace the report's `actions` section (as gates given here do).
    report = with_actions(load_report(request.report), settings.actions_results)
    baseline = read_baseline(settings.baseline, actions=actions)
    # Gates given here are checked now; otherwise the summary shows those `run` recorded.
    gates = evaluate_gates(report, baseline, settings) if settings.configured else list(
        report.gates)
    rendering = Rendering(report, baseline, gates, request.assistant_name,
                          head_commit(context))
    output, view, _ = _write_files(request, rendering, actions)
    actions.set_outputs({"summary_path": str(output), "verdict": view.verdict,
                         "gates": json.dumps([gate.to_dict() for gate in gates],
                                             sort_keys=True)})
    emit_annotations(report, actions, workspace=context.workspace)
    _comment(request, lambda: rendering.markdown(COMMENT_BUDGET), view.marker,
             context=context, actions=actions, connect=connect)
    if failed_gates(gates) and settings.configured:
        raise ToolkitError(gate_failure_message(gates))



def _report_missing(request: SummaryRequest, *, context: GitHubContext,
                    actions: ActionsRuntime, connect: Connect) -> None:
    """The pipeline stopped before it wrote a report: the job summary and the sticky comment
    say so (never the previous run's ✅). The caller then fails on the missing report."""
    name = stopped_assistant_name(request.assistant_name)
    markdown = stopped_markdown(assistant_name=name, reason=request.failure_reason,
                                context=context, commit=head_commit(context) or context.sha)
    if actions.active and actions.environ.get("GITHUB_STEP_SUMMARY"):
        actions.append_step_summary(_redacted(markdown, actions))
    _comment(request, lambda: markdown, markdown.partition("\n")[0], context=context,
             actions=actions, connect=connect)
