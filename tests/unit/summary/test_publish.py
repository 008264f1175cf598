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


@pytest.mark.parametrize(("environ", "blocker"), [
    ({}, "GITHUB_TOKEN is not set"),
    ({"GITHUB_TOKEN": "t"}, "GITHUB_REPOSITORY (owner/name) is not set"),
    ({"GITHUB_API_URL": "api.github.com"}, "GITHUB_API_URL 'api.github.com' is not an http(s)"),
    ({"GITHUB_API_URL": "ftp://x.example"}, "GITHUB_API_URL 'ftp://x.example' is not an http"),
    ({"GITHUB_API_URL": "http://[::1"}, "GITHUB_API_URL 'http://[::1' is not an http(s) URL"),
    ({"GITHUB_API_URL": "https://"}, "on GitHub Enterprise Server it is https://HOST/api/v3"),
    ({"GITHUB_API_URL": "https://ghe.example/api/v3"}, None),
    ({}, None),
])
def test_comment_blockers_say_what_to_set(tmp_path: Path, environ: dict[str, str],
                                          blocker: str | None) -> None:
    base = {} if "GITHUB_TOKEN is not set" in (blocker or "") else {"GITHUB_TOKEN": "t"}
    if "GITHUB_REPOSITORY" not in (blocker or ""):
        base["GITHUB_REPOSITORY"] = "o/r"
    found = _comment_blocker(context(tmp_path, {}, **{**base, **environ}))
    if blocker is None:
        assert found is None
    else:
        assert found is not None and blocker in found


def test_every_option_of_the_command_is_a_request_field() -> None:
    params = {param.name for param in summary_command.summary.params}
    names = {field.name for field in fields(SummaryRequest)} - {"gates"}
    assert names <= params
    assert set(summary_command.ENV_VARS_READ) <= set(ENV_VARS)
    assert "GITHUB_TOKEN" in summary_command.ENV_VARS_READ


def test_a_failed_comment_never_shows_the_token_in_any_spelling() -> None:
    token = "ghp_secret/with+chars"

    class Broken:
        @property
        def requester(self) -> None:
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


def run_summary_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, report: dict,
                        *args: str, **environ: str) -> int:
    from ci_toolkit.cli import main

    for name in list(os.environ):
        if name.startswith(("GITHUB_", "CI_TOOLKIT_")):
            monkeypatch.delenv(name)
    path = tmp_path / "reports" / "report.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(report), encoding="utf-8")
    defaults = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "step_summary.md"),
                "GITHUB_OUTPUT": str(tmp_path / "github_output")}
    for name, value in {**defaults, **environ}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return main(["summary", "--no-comment", *args])


def fixture_report(name: str = "coffeebot-failed-story") -> dict:
    from tests import paths

    return json.loads((paths.FIXTURES / "reports" / f"{name}.json").read_text(encoding="utf-8"))


# (variable, what is wrong with its path, exit code, the message on stderr)
ENV_FILE_CASES = [
    ("GITHUB_OUTPUT", "missing", 1, "error: cannot write to GITHUB_OUTPUT={path}: the directory "
                                    "{parent} does not exist."),
    ("GITHUB_OUTPUT", "directory", 1, "error: cannot write to GITHUB_OUTPUT={path}: it is a "
                                      "directory."),
    ("GITHUB_STEP_SUMMARY", "missing", 0, "warning: the job summary was not written: cannot "
                                          "write to GITHUB_STEP_SUMMARY={path}: the directory "
                                          "{parent} does not exist."),
    ("GITHUB_STEP_SUMMARY", "directory", 0, "warning: the job summary was not written: cannot "
                                            "write to GITHUB_STEP_SUMMARY={path}: it is a "
                                            "directory."),
]


@pytest.mark.parametrize(("variable", "how", "code", "message"), ENV_FILE_CASES)
def test_env_files_that_cannot_be_written_are_an_error_or_a_warning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        variable: str, how: str, code: int, message: str) -> None:
    path = tmp_path / "no-such-dir" / "file" if how == "missing" else tmp_path / "a-dir"
    if how == "directory":
        path.mkdir()
    assert run_summary_command(tmp_path, monkeypatch, fixture_report(),
                               **{variable: str(path)}) == code
    err = capsys.readouterr().err
    assert message.format(path=path, parent=path.parent) in err
    assert "Traceback" not in err
    if variable == "GITHUB_STEP_SUMMARY":  # only a warning: the rest is all there
        assert (tmp_path / "reports" / "summary.md").is_file()
        assert "verdict=failed" in (tmp_path / "github_output").read_text(encoding="utf-8")
    else:  # checked before anything is written
        assert not (tmp_path / "reports" / "summary.md").exists()


def test_a_secret_in_the_report_reaches_no_file_summary_annotation_or_output(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    secret = "rasa-T0ken/with+chars"
    report = fixture_report()
    story = report["core"]["failed_stories"][0]
    story["name"] = f"login with {secret}"
    story["failed_step"]["text"] = f"my token is {json.dumps(secret)[1:-1]}"
    report["validation"]["warnings"][0]["message"] = f"bad url http://x/?token={quote(secret)}"
    report["gates"][0]["message"] = f"gate saw {secret}"
    assert run_summary_command(tmp_path, monkeypatch, report, "--html", "report.html",
                               CI_TOOLKIT_RASA_TOKEN=secret) == 0
    out = capsys.readouterr()
    written = {path.name: path.read_text(encoding="utf-8") for path in (
        tmp_path / "reports" / "summary.md", tmp_path / "report.html",
        tmp_path / "step_summary.md", tmp_path / "github_output")}
    # cli.main masks the environment's secrets: the runner needs the value in ::add-mask::.
    shown = [line for line in out.out.splitlines() if not line.startswith("::add-mask::")]
    written.update(stdout="\n".join(shown), stderr=out.err)
    for spelled in (secret, json.dumps(secret)[1:-1], quote(secret), quote(secret, safe="")):
        assert not [name for name, text in written.items() if spelled in text], spelled
    assert "login with ***" in written["summary.md"] and "login with ***" in written["stdout"]
    assert "gate saw ***" in written["github_output"]


# (option, how its path is wrong, the message)
FILE_OPTION_CASES = [
    ("--output", "inside a file", "cannot write {path} ({parent} is a file, not a directory). "
                                  "Choose another --output path."),
    ("--html", "inside a file", "cannot write {path} ({parent} is a file, not a directory). "
                                "Choose another --html path."),
    ("--output", "a directory", "is a directory"),
    ("--html", "a directory", "is a directory"),
]


@pytest.mark.parametrize(("option", "how", "message"), FILE_OPTION_CASES)
def test_output_files_that_cannot_be_written_are_exit_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        option: str, how: str, message: str) -> None:
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-dir").mkdir()
    path = tmp_path / "a-file" / "out" if how == "inside a file" else tmp_path / "a-dir"
    code = run_summary_command(tmp_path, monkeypatch, fixture_report(), option, str(path))
    err = capsys.readouterr().err
    assert code == 2, err
    assert message.format(path=path, parent=path.parent) in err and "Traceback" not in err


def test_the_marker_line_survives_a_secret_that_equals_the_assistant_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A weak password is still a secret, but redacting it inside the marker would lose the
    # sticky comment: everything but the marker line is redacted.
    assert run_summary_command(tmp_path, monkeypatch, fixture_report(),
                               CI_TOOLKIT_RASAX_PASSWORD="coffeebot") == 0
    summary = (tmp_path / "reports" / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("<!-- ci-toolkit:summary:coffeebot -->\n## ")
    assert "`coffeebot`" not in summary and "`***`" in summary


BOT = {"login": "github-actions[bot]", "type": "Bot"}
PERSON = {"login": "alice", "type": "User"}


@pytest.mark.parametrize(("body", "author", "me", "found"), [
    ("<!-- m -->\nsummary", BOT, None, True),
    ("<!-- m -->\r\nsummary (edited on the web: CRLF)", BOT, None, True),
    ("<!-- m -->", {"login": "ci", "type": "User"}, "ci", True),
    # The marker anywhere but the first line is text, not a marker.
    ("<!-- x -->\n- story: hijack <!-- m -->", BOT, None, False),
    ("summary\n<!-- m -->", BOT, None, False),
    ("> <!-- m -->\n> quoted", BOT, None, False),
    ("<!-- m --> and more", BOT, None, False),
    # Only our own comment: a person who pasted the marker is never overwritten.
    ("<!-- m -->\nsummary", PERSON, None, False),
    ("<!-- m -->\nsummary", BOT, "ci", False),
    ("<!-- m -->\nsummary", None, None, False),
    (None, BOT, None, False),
])
def test_the_sticky_comment_is_ours_and_starts_with_the_marker(
        body: str | None, author: dict | None, me: str | None, found: bool) -> None:
    from ci_toolkit.summary.comment import find_sticky_comment

    comment = {"id": 1, "body": body, "user": author}
    assert (find_sticky_comment([comment], marker="<!-- m -->", me=me) is comment) is found
