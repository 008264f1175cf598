"""GitHub: the sticky PR comment (PyGithub). Annotations are ci_toolkit/summary/annotations.py.

One comment per pull request and per assistant. It is found by a hidden marker,
``<!-- ci-toolkit:summary:<assistant> -->``, that is the comment's whole first line, and
updated in place, so re-runs never add comments. The marker anywhere else in a body (a story
named after another assistant's marker, a quote of our comment) never counts. Only a comment
that starts with the marker AND was written by us is ever edited:

- when the token can tell who it is (``GET /user``: personal access tokens), "us" is that
  login;
- GitHub App installation tokens, including Actions' own GITHUB_TOKEN, cannot read
  ``/user`` (403 "Resource not accessible by integration"). They post as a bot
  (``github-actions[bot]``), so "us" is then any bot author: a person who pasted the marker
  into their own comment is never overwritten.

The requests go through PyGithub's requester, and every answer is checked for the JSON shape
GitHub documents before it is used: a proxy, or a GITHUB_API_URL that points at the web site,
answers 200 with an HTML page. A comment that cannot be posted (403 on a fork's read-only
token, 5xx, network, an answer that is not the API's) is a CommentOutcome with the reason;
the caller turns it into a warning. The token is never part of a reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ci_toolkit.redaction import Redactor

if TYPE_CHECKING:
    from github import Github

# 100 comments a page: a pull request with more than 5,000 comments gets a new sticky comment.
PER_PAGE = 100
MAX_PAGES = 50
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
_PREVIEW = 80


class UnexpectedAnswer(Exception):
    """GitHub's API answered with something other than the JSON it documents."""


@dataclass(frozen=True)
class CommentOutcome:
    action: str  # "created" | "updated" | "failed"
    url: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.action != "failed"


def first_line(body: object) -> str:
    text = body if isinstance(body, str) else ""
    return text.split("\n", 1)[0].strip()


def describe_body(data: object) -> str:
    """What a non-JSON or wrongly shaped answer was, in a few words and a short preview."""
    if isinstance(data, Mapping) and isinstance(data.get("data"), str) \
            and set(data) <= {"data", "url"}:
        # PyGithub's stand-in for a body that is not JSON.
        text = " ".join(data["data"].split())
        kind = ("an HTML page" if text[:20].lower().startswith(("<!doctype html", "<html"))
                else "text that is not JSON")
        preview = "".join(char if char.isprintable() else "?" for char in text[:_PREVIEW])
        return f"{kind} ({preview}{'…' if len(text) > _PREVIEW else ''})"
    return f"JSON of another shape (a {type(data).__name__})"


def _request(gh: Github, method: str, url: str, *, what: str,
             parameters: dict[str, Any] | None = None,
             body: dict[str, Any] | None = None) -> tuple[Mapping[str, Any], Any]:
    try:
        return gh.requester.requestJsonAndCheck(method, url, parameters=parameters, input=body)
    except ValueError as error:  # a body that starts like JSON but is not
        raise UnexpectedAnswer(f"{what}: a body that is not valid JSON ({error})") from None


def _checked_comment(data: object, what: str) -> Mapping[str, Any]:
    if isinstance(data, Mapping) and isinstance(data.get("id"), int) \
            and isinstance(data.get("html_url"), str):
        return data
    raise UnexpectedAnswer(f"{what}: {describe_body(data)}")


def _is_comment_list(data: object) -> bool:
    return isinstance(data, list) and all(
        isinstance(item, Mapping) and isinstance(item.get("id"), int)
        and isinstance(item.get("body") or "", str)
        and isinstance(item.get("user") or {}, Mapping) for item in data)


def _next_page(headers: Mapping[str, Any]) -> str | None:
    link = next((value for name, value in headers.items() if name.lower() == "link"), None)
    match = _NEXT_LINK.search(link) if isinstance(link, str) else None
    return match.group(1) if match else None


def list_comments(gh: Github, repository: str, pr_number: int) -> list[Mapping[str, Any]]:
    """Every comment of the pull request (pages followed by their Link header)."""
    what = f"the comments of {repository}#{pr_number}"
    url: str | None = f"/repos/{repository}/issues/{pr_number}/comments"
    parameters: dict[str, Any] | None = {"per_page": PER_PAGE}
    comments: list[Mapping[str, Any]] = []
    for _ in range(MAX_PAGES):
        if url is None:
            break
        headers, data = _request(gh, "GET", url, what=what, parameters=parameters)
        if not _is_comment_list(data):
            raise UnexpectedAnswer(f"{what}: {describe_body(data)}")
        comments.extend(data)
        url, parameters = _next_page(headers), None
    return comments


def _viewer_login(gh: Github) -> str | None:
    """Who the token is, or None for an App/Actions token (see the module docstring)."""
    from github import GithubException

    what = "who the token belongs to (GET /user)"
    try:
        _, data = _request(gh, "GET", "/user", what=what)
    except GithubException as error:
        if error.status == 403:
            return None
        raise
    login = data.get("login") if isinstance(data, Mapping) else None
    if not isinstance(login, str) or not login:
        raise UnexpectedAnswer(f"{what}: {describe_body(data)}")
    return login


def _is_ours(comment: Mapping[str, Any], me: str | None) -> bool:
    author = comment.get("user")
    if not isinstance(author, Mapping):
        return False
    if me is not None:
        return author.get("login") == me
    return author.get("type") == "Bot"


def find_sticky_comment(comments: Iterable[Mapping[str, Any]], *, marker: str,
                        me: str | None) -> Mapping[str, Any] | None:
    """The first comment whose first line is the marker and that is ours, or None."""
    for comment in comments:
        if first_line(comment.get("body")) == marker and _is_ours(comment, me):
            return comment
    return None


def upsert_sticky_comment(gh: Github, *, repository: str, pr_number: int, body: str,
                          marker: str) -> CommentOutcome:
    """Update our marked comment on the PR, or create it. Raises PyGithub/requests errors
    and UnexpectedAnswer."""
    if first_line(body) != marker:
        raise ValueError("the comment body must start with its marker line, or it is never "
                         "found again")
    marked = [comment for comment in list_comments(gh, repository, pr_number)
              if first_line(comment.get("body")) == marker]
    # Only ask who we are when a marked comment exists: that saves a request on first runs.
    existing = find_sticky_comment(marked, marker=marker, me=_viewer_login(gh)) if marked else None
    if existing is not None:
        what = f"the update of comment {existing['id']}"
        _, data = _request(gh, "PATCH", f"/repos/{repository}/issues/comments/{existing['id']}",
                           what=what, body={"body": body})
        return CommentOutcome("updated", _checked_comment(data, what)["html_url"])
    what = f"the new comment on {repository}#{pr_number}"
    _, data = _request(gh, "POST", f"/repos/{repository}/issues/{pr_number}/comments",
                       what=what, body={"body": body})
    return CommentOutcome("created", _checked_comment(data, what)["html_url"])


def _github_message(error: Any) -> str:
    data = getattr(error, "data", None)
    if isinstance(data, Mapping) and isinstance(data.get("message"), str):
        message = data["message"]
        details = [item.get("message") for item in data.get("errors") or []
                   if isinstance(item, Mapping) and isinstance(item.get("message"), str)]
        return "; ".join([message, *details])
    if data is not None:
        return describe_body(data)
    return str(getattr(error, "message", None) or type(error).__name__)


def _explain_status(status: int | None, message: str, repository: str, pr_number: int) -> str:
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
    if status == 422:
        return f"GitHub refused the comment (422: {message})."
    if status is not None and status >= 500:
        return (f"GitHub answered {status} ({message}). This is on GitHub's side; "
                "re-run the job to post the comment.")
    return f"GitHub answered {status} ({message})."


def explain_failure(error: Exception, *, repository: str, pr_number: int, api_url: str) -> str:
    """Why the comment could not be posted, and what to do about it."""
    from github import GithubException

    if isinstance(error, GithubException):
        return _explain_status(error.status, _github_message(error), repository, pr_number)
    if isinstance(error, UnexpectedAnswer):
        return (f"the GitHub API at {api_url} did not answer as GitHub's REST API does, for "
                f"{error}. Check GITHUB_API_URL: it must be the API (https://api.github.com, "
                "or https://HOST/api/v3 on GitHub Enterprise Server), not the web site; a "
                "proxy may also answer with a page of its own.")
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
    except (GithubException, requests.RequestException, OSError, UnexpectedAnswer) as error:
        reason = explain_failure(error, repository=repository, pr_number=pr_number, api_url=api_url)
        return CommentOutcome("failed", None, Redactor(secrets)(reason))
