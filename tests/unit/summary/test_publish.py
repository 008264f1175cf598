"""`ci-toolkit summary` below the command: the request, the PR number, the comment's blockers."""

from __future__ import annotations

import json
import os
from dataclasses import fields
from pathlib import Path
from urllib.parse import quote

import pytest

from ci_toolkit.commands import summary as summary_command
from ci_toolkit.github_context import ENV_VARS, GitHubContext
from ci_toolkit.summary.comment import publish_sticky_comment
from ci_toolkit.summary.publish import (
    SummaryRequest,
    _comment_blocker,
    pull_request_number,
)


def context(tmp_path: Path, event: object, name: str = "pull_request",
            **extra: str) -> GitHubContext:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    return GitHubContext.from_environ({"GITHUB_EVENT_NAME": name,
                                       "GITHUB_EVENT_PATH": str(path), **extra})


@pytest.mark.parametrize(("event", "name", "expected"), [
    ({"pull_request": {"number": 7}}, "pull_request", 7),
    ({"pull_request": {"number": 7}}, "pull_request_target", 7),
    ({"pull_request": {"number": 7}}, "push", None),
    ({"pull_request": {"number": "7"}}, "pull_request", None),
    ({"pull_request": None}, "pull_request", None),
    ([1, 2], "pull_request", None),
])
def test_pull_request_number(tmp_path: Path, event: object, name: str,
                             expected: int | None) -> None:
    assert pull_request_number(context(tmp_path, event, name)) == expected


def test_comment_blockers_say_what_to_set(tmp_path: Path) -> None:
    assert "GITHUB_TOKEN is not set" in (_comment_blocker(context(tmp_path, {})) or "")
    no_repository = context(tmp_path, {}, GITHUB_TOKEN="t")
    assert "GITHUB_REPOSITORY" in (_comment_blocker(no_repository) or "")
    assert _comment_blocker(context(tmp_path, {}, GITHUB_TOKEN="t",
                                    GITHUB_REPOSITORY="o/r")) is None


def test_every_option_of_the_command_is_a_request_field() -> None:
    params = {param.name for param in summary_command.summary.params}
    names = {field.name for field in fields(SummaryRequest)} - {"gates"}
    assert names <= params
    assert set(summary_command.ENV_VARS_READ) <= set(ENV_VARS)
    assert "GITHUB_TOKEN" in summary_command.ENV_VARS_READ


def test_a_failed_comment_never_shows_the_token_in_any_spelling() -> None:
    token = "ghp_secret/with+chars"

    class Broken:
        def get_repo(self, name: str) -> None:
            raise OSError(f"connection to https://x/?token={token} failed for "
                          f"{json.dumps(token)} and {quote(token, safe='')}")

    outcome = publish_sticky_comment(Broken(), repository="o/r", pr_number=1,  # type: ignore[arg-type]
                                     body="<!-- m -->", marker="<!-- m -->",
                                     api_url="https://x", secrets=(token,))
    assert not outcome.ok and outcome.reason is not None
    assert "secret" not in outcome.reason and "could not reach the GitHub API" in outcome.reason


def test_in_actions_the_command_writes_step_summary_outputs_and_annotations(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from ci_toolkit.cli import main
    from tests import paths

    for name in list(os.environ):
        if name.startswith(("GITHUB_", "CI_TOOLKIT_")):
            monkeypatch.delenv(name)
    report = tmp_path / "reports" / "report.json"
    report.parent.mkdir()
    report.write_text((paths.FIXTURES / "reports" / "coffeebot-failed-story.json").read_text(
        encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "step_summary.md"))
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "github_output"))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(paths.REPO_ROOT))
    monkeypatch.chdir(tmp_path)

    assert main(["summary", "--no-comment"]) == 0
    summary = (tmp_path / "reports" / "summary.md").read_text(encoding="utf-8")
    # Unset --step-summary means on in Actions.
    assert (tmp_path / "step_summary.md").read_text(encoding="utf-8").startswith(summary)
    outputs = (tmp_path / "github_output").read_text(encoding="utf-8")
    assert f"summary_path={Path('reports') / 'summary.md'}" in outputs
    assert "verdict=failed" in outputs
    recorded = json.loads(report.read_text(encoding="utf-8"))["gates"]
    assert f"gates={json.dumps(recorded, sort_keys=True)}" in outputs
    assert "title=Failed test story::Test story" in capsys.readouterr().out
