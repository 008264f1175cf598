"""GitHub: the sticky PR comment (PyGithub). Annotations are ci_toolkit/summary/annotations.py.

One comment per pull request and per assistant. It is found by a hidden marker,
``<!-- ci-toolkit:summary:<assistant> -->``, and updated in place, so re-runs never add
comments. Only a comment that has the marker AND was written by us is ever edited:

- when the token can tell who it is (``GET /user``: personal access tokens), "us" is that
  login;
- GitHub App installation tokens, including Actions' own GITHUB_TOKEN, cannot read
  ``/user`` (403 "Resource not accessible by integration"). They post as a bot
  (``github-actions[bot]``), so "us" is then any bot author: a person who pasted the marker
  into their own comment is never overwritten.

A comment that cannot be posted (403 on a fork's read-only token, 5xx, network) is a
CommentOutcome with the reason; the caller turns it into a warning. The token is never part
of a reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ci_toolkit.redaction import Redactor

if TYPE_CHECKING:
    from github import Github
    from github.IssueComment import IssueComment

@dataclass(frozen=True)
class CommentOutcome:
    action: str  # "created" | "updated" | "failed"
    url: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.action != "failed"


def _viewer_login(gh: Github) -> str | None:
    from github import GithubException

    try:
        return gh.get_user().login
    except GithubException:
        return None  # an App/Actions token: see the module docstring


def _is_ours(comment: IssueComment, me: str | None) -> bool:
    author = comment.user
    if author is None:
        return False
    if me is not None:
        return author.login == me
    return author.type == "Bot"


def find_sticky_comment(comments: Iterable[IssueComment], *, marker: str,
                        me: str | None) -> IssueComment | None:
    """The first comment that carries the marker and is ours, or None."""
    for comment in comments:
        if marker in (comment.body or "") and _is_ours(comment, me):
            return comment
    return None


def upsert_sticky_comment(gh: Github, *, repository: str, pr_number: int, body: str,
                          marker: str) -> CommentOutcome:
    """Update our marked comment on the PR, or create it. Raises PyGithub/requests errors."""
    if marker not in body:
        raise ValueError("the comment body must contain its marker, or it is never found again")
    issue = gh.get_repo(repository).get_issue(pr_number)
    marked = [comment for comment in issue.get_comments() if marker in (comment.body or "")]
    # Only ask who we are when a marked comment exists: that saves a request on first runs.
    existing = find_sticky_comment(marked, marker=marker, me=_viewer_login(gh)) if marked else None
    if existing is not None:
        existing.edit(body)
        return CommentOutcome("updated", existing.html_url)
    created = issue.create_comment(body)
    return CommentOutcome("created", created.html_url)


def _github_message(error: Any) -> str:
    data = getattr(error, "data", None)
    if isinstance(data, Mapping) and data.get("message"):
        return str(data["message"])
    return str(getattr(error, "message", None) or type(error).__name__)


def explain_failure(error: Exception, *, repository: str, pr_number: int, api_url: str) -> str:
    """Why the comment could not be posted, and what to do about it."""
    from github import GithubException

    if isinstance(error, GithubException):
        status, message = error.status, _github_message(error)
        if status == 401:
            return f"GitHub rejected the token (401: {message}). Check that GITHUB_TOKEN is valid."
        if status == 403:
            return (f"GitHub refused to let this token comment on {repository}#{pr_number} "
                    f"(403: {message}). Pull requests from forks get a read-only token, so "
                    "this is expected there; otherwise give the job "
                    "`permissions: pull-requests: write`. The summary is in the job summary.")
        if status == 404:
            return (f"GitHub answered 404 for {repository}#{pr_number} ({message}): the "
                    "pull request does not exist or the token cannot see the repository.")
        if status is not None and status >= 500:
            return (f"GitHub answered {status} ({message}). This is on GitHub's side; "
                    "re-run the job to post the comment.")
        return f"GitHub answered {status} ({message})."
    return (f"could not reach the GitHub API at {api_url} ({type(error).__name__}: {error}). "
            "Check the network, or GITHUB_API_URL on GitHub Enterprise Server.")


def publish_sticky_comment(gh: Github, *, repository: str, pr_number: int, body: str,
                           marker: str, api_url: str,
                           secrets: Iterable[str] = ()) -> CommentOutcome:
    """upsert_sticky_comment, with every GitHub or network failure turned into an outcome."""
    import requests
    from github import GithubException

    try:
        return upsert_sticky_comment(gh, repository=repository, pr_number=pr_number,
                                     body=body, marker=marker)
    except (GithubException, requests.RequestException, OSError) as error:
        reason = explain_failure(error, repository=repository, pr_number=pr_number, api_url=api_url)
        return CommentOutcome("failed", None, Redactor(secrets)(reason))
