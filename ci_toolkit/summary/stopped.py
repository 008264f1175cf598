"""The summary of a run that stopped before it wrote a report (a malformed domain, rasa
missing, an install that failed).

The sticky comment must never keep showing the previous run's ✅: it is replaced by a short
❌ with the reason. The reason comes from the step (CI_TOOLKIT_FAILURE_REASON, the action
says which step failed) or is a pointer to the job log.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from ci_toolkit.escape import code, safe_url, text
from ci_toolkit.summary.view import marker, shorten

if TYPE_CHECKING:
    from ci_toolkit.github_context import GitHubContext

GENERIC_REASON = "the job log says why"
_SHA = re.compile(r"[0-9a-f]{7,64}")


def head_commit(context: GitHubContext) -> str | None:
    """The PR's head commit (``pull_request.head.sha`` of the event), or None.

    On pull_request events GITHUB_SHA is GitHub's merge commit, which no reviewer knows."""
    if not context.is_pull_request:
        return None
    pull_request = context.event().get("pull_request")
    head = pull_request.get("head") if isinstance(pull_request, dict) else None
    sha = head.get("sha") if isinstance(head, dict) else None
    sha = sha.strip().lower() if isinstance(sha, str) else ""
    return sha if _SHA.fullmatch(sha) else None


def stopped_assistant_name(assistant_name: str | None) -> str:
    """The name the report would have had: ``ci-toolkit run`` names the assistant after the
    project directory, which is the working directory in the action, so the marker matches
    the comment earlier runs posted."""
    return assistant_name or Path.cwd().resolve().name or "assistant"


def stopped_markdown(*, assistant_name: str, reason: str | None, context: GitHubContext,
                     commit: str | None) -> str:
    """The whole comment: marker, the ❌ line with the reason, the commit and the run."""
    why = shorten(reason, 600) or GENERIC_REASON
    lines = [marker(assistant_name),
             f"## ❌ ci-toolkit stopped before a report was written: {text(why)}", ""]
    where = f"Assistant {code(assistant_name)}"
    commit_url = safe_url(f"{context.repository_url}/commit/{commit}") \
        if commit and context.repository_url else None
    if commit:
        shown = code(commit[:7])
        where += f" at [{shown}]({commit_url})" if commit_url else f" at {shown}"
    lines.append(where + ". There are no metrics for this run.")
    run_url = safe_url(context.run_url)
    lines += ["", f"Read the [job log]({run_url}) for the details." if run_url
              else "Read the job log for the details."]
    return "\n".join(lines) + "\n"
