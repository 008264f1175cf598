"""Where a command runs: the GitHub Actions environment, or a developer's git checkout.

Every command reads the runner's ``GITHUB_*`` variables through ``GitHubContext.from_environ``
and nothing else, so the variables the toolkit depends on are listed once (``ENV_VARS``) and
the commit a run belongs to is looked up one way: ``GITHUB_SHA`` in Actions, else git.
Standard library only: the action helper uses it before anything is installed.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SERVER_URL = "https://github.com"
DEFAULT_API_URL = "https://api.github.com"
PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")

# Every variable of the runner that the toolkit reads (docs.github.com, "Default environment
# variables"). The actions' contract test checks that what a step sets is read somewhere.
ENV_VARS: tuple[str, ...] = (
    "GITHUB_ACTIONS", "GITHUB_SHA", "GITHUB_REF", "GITHUB_REF_NAME", "GITHUB_HEAD_REF",
    "GITHUB_SERVER_URL", "GITHUB_API_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID",
    "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_WORKSPACE", "GITHUB_TOKEN",
    "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY",
)


def git(directory: Path, *args: str) -> str | None:
    """One git command's trimmed stdout, or None when git is missing or the command fails."""
    try:
        done = subprocess.run(["git", "-C", str(directory), *args], capture_output=True,
                              text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@dataclass(frozen=True)
class GitHubContext:
    actions: bool = False
    sha: str = ""
    ref: str = ""
    ref_name: str = ""
    head_ref: str = ""
    server_url: str = DEFAULT_SERVER_URL
    api_url: str = DEFAULT_API_URL
    repository: str = ""
    run_id: str = ""
    event_name: str = ""
    event_path: str = ""
    workspace: str = ""
    token: str = field(default="", repr=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> GitHubContext:
        env = os.environ if environ is None else environ

        def read(name: str) -> str:
            return (env.get(name) or "").strip()

        return cls(
            actions=read("GITHUB_ACTIONS") == "true",
            sha=read("GITHUB_SHA").lower(),
            ref=read("GITHUB_REF"),
            ref_name=read("GITHUB_REF_NAME"),
            head_ref=read("GITHUB_HEAD_REF"),
            server_url=(read("GITHUB_SERVER_URL") or DEFAULT_SERVER_URL).rstrip("/"),
            api_url=(read("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
            repository=read("GITHUB_REPOSITORY"),
            run_id=read("GITHUB_RUN_ID"),
            event_name=read("GITHUB_EVENT_NAME"),
            event_path=read("GITHUB_EVENT_PATH"),
            workspace=read("GITHUB_WORKSPACE"),
            token=env.get("GITHUB_TOKEN") or "",
        )

    def commit_sha(self, directory: Path) -> str | None:
        """The commit being built: ``GITHUB_SHA`` in Actions, else ``git rev-parse HEAD``."""
        return self.sha or git(directory, "rev-parse", "HEAD") or None

    def branch(self, directory: Path) -> str | None:
        """The PR's head branch, the pushed branch, or git's current branch."""
        if self.head_ref or self.ref_name:
            return self.head_ref or self.ref_name
        branch = git(directory, "rev-parse", "--abbrev-ref", "HEAD")
        return branch if branch and branch != "HEAD" else None

    @property
    def repository_url(self) -> str | None:
        return f"{self.server_url}/{self.repository}" if self.repository else None

    @property
    def run_url(self) -> str | None:
        if not (self.actions and self.run_id and self.repository):
            return None
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"

    @property
    def is_pull_request(self) -> bool:
        return self.event_name in PULL_REQUEST_EVENTS

    def event(self) -> dict:
        """The webhook payload of the event that started the run ({} when there is none)."""
        if not self.event_path:
            return {}
        try:
            payload = json.loads(Path(self.event_path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return {}
        return payload if isinstance(payload, dict) else {}
