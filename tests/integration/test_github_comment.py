"""`ci-toolkit summary` against a local server that plays GitHub's REST API.

The real CLI runs in a subprocess, as in a workflow step, with the environment the Actions
runner sets. PyGithub is pointed at the fake through GITHUB_API_URL (its base_url).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes.github_server import BOT, HTML_PAGE, FakeGitHub, running_fake_github

REPO_ROOT = Path(__file__).resolve().parents[2]
REPORTS = REPO_ROOT / "tests" / "fixtures" / "reports"
TOKEN = "ghp_FAKE0123456789tokenNeverShown"
APP_TOKEN = "ghs_FAKEinstallation0123456789xyz"
ME = {"login": "coffee-ci", "id": 501, "type": "User"}
ALICE = {"login": "alice", "id": 2, "type": "User"}
MARKER = "<!-- ci-toolkit:summary:coffeebot -->"


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    workdir: Path

    def files_text(self) -> str:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace")
                         for path in sorted(self.workdir.rglob("*")) if path.is_file())

    def outputs(self) -> str:
        return (self.workdir / "github_output").read_text(encoding="utf-8")


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    state = FakeGitHub(tokens={TOKEN: ME, APP_TOKEN: None})
    with running_fake_github(state):
        yield state


def run_summary(workdir: Path, fake: FakeGitHub | None, *args: str, token: str | None = TOKEN,
                event: str = "pull_request", api_url: str | None = None,
                report_name: str = "coffeebot", report_path: Path | None = None,
                head_sha: str = "abc", write_report: bool = True,
                extra_env: dict[str, str] | None = None) -> Run:
    workdir.mkdir(parents=True, exist_ok=True)
    report = workdir / "reports" / "report.json"
    report.parent.mkdir(exist_ok=True)
    source = report_path or REPORTS / f"{report_name}.json"
    if write_report:
        report.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    event_path = workdir / "event.json"
    event_path.write_text(json.dumps({"action": "synchronize", "number": 7,
                                      "pull_request": {"number": 7, "head": {"sha": head_sha}}}))
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("GITHUB_", "CI_TOOLKIT_", "RUNNER_"))}
    env.update({
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "octo-org/coffee-assistant",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_OUTPUT": str(workdir / "github_output"),
        "GITHUB_STEP_SUMMARY": str(workdir / "step_summary.md"),
        "GITHUB_WORKSPACE": str(REPO_ROOT),
        "GITHUB_API_URL": api_url or (fake.base_url if fake else "http://127.0.0.1:9"),
        "PYTHONPATH": str(REPO_ROOT),
    })
    if token:
        env["GITHUB_TOKEN"] = token
    env.update(extra_env or {})
    done = subprocess.run(
        [sys.executable, "-m", "ci_toolkit.cli", "summary", str(report), *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    return Run(done.returncode, done.stdout, done.stderr, workdir)


def assert_token_never_shown(run: Run, token: str = TOKEN) -> None:
    # The one line that must carry it is the mask command itself: the runner consumes it.
    stdout_lines = [line for line in run.stdout.splitlines() if token in line]
    assert stdout_lines == [f"::add-mask::{token}"]
    assert token not in run.stderr
    assert token not in run.files_text()


def our_comments(fake: FakeGitHub) -> list[dict]:
    return [c for c in fake.comments.values() if MARKER in c["body"]]


def test_first_run_posts_and_second_run_patches_in_place(tmp_path: Path, fake: FakeGitHub) -> None:
    first = run_summary(tmp_path / "one", fake)
    assert first.returncode == 0, first.stderr
    summary_md = (tmp_path / "one" / "reports" / "summary.md").read_text(encoding="utf-8")
    assert [(r.method, r.path) for r in fake.requests] == [
        ("GET", "/repos/octo-org/coffee-assistant/issues/7/comments"),
        ("POST", "/repos/octo-org/coffee-assistant/issues/7/comments"),
    ]
    posted = fake.calls("POST")[0]
    assert posted.body == {"body": summary_md}
    assert posted.headers["Content-Type"].startswith("application/json")
    assert fake.calls("GET")[0].query["per_page"] == ["100"]
    assert summary_md.startswith(MARKER + "\n")
    assert "PR comment created" in first.stderr

    fake.requests.clear()
    second = run_summary(tmp_path / "two", fake)
    assert second.returncode == 0, second.stderr
    assert [r.method for r in fake.requests] == ["GET", "GET", "PATCH"]
    assert fake.requests[1].path == "/user"
    comment_id = our_comments(fake)[0]["id"]
    patched = fake.calls("PATCH")[0].path
    assert patched == f"/repos/octo-org/coffee-assistant/issues/comments/{comment_id}"
    assert not fake.calls("POST")
    assert len(fake.comments) == 1
    assert "PR comment updated" in second.stderr
    for run in (first, second):
        assert all(r.headers["Authorization"] == f"token {TOKEN}" for r in fake.requests)
        assert_token_never_shown(run)


def test_comments_of_others_are_never_touched(tmp_path: Path, fake: FakeGitHub) -> None:
    plain = fake.add_comment(7, "Looks good, but check the latte intent.", ALICE)
    quoted = fake.add_comment(7, f"> {MARKER}\n> quoting the bot", ALICE)
    before = {c["id"]: dict(c) for c in (plain, quoted)}
    for attempt in ("one", "two"):
        run = run_summary(tmp_path / attempt, fake)
        assert run.returncode == 0, run.stderr
    # Alice's comments, with or without the marker, were neither edited nor targeted.
    assert {c["id"]: c for c in (plain, quoted)} == before
    patched = [r.path for r in fake.calls("PATCH")]
    assert all(str(plain["id"]) not in path and str(quoted["id"]) not in path for path in patched)
    ours = [c for c in our_comments(fake) if c["user"]["login"] == ME["login"]]
    assert len(ours) == 1 and len(fake.calls("POST")) == 1 and len(patched) == 1


def test_actions_token_without_user_endpoint_updates_the_bot_comment(tmp_path: Path,
                                                                    fake: FakeGitHub) -> None:
    fake.add_comment(7, f"{MARKER}\nhand-made by a person", ALICE)
    first = run_summary(tmp_path / "one", fake, token=APP_TOKEN)
    second = run_summary(tmp_path / "two", fake, token=APP_TOKEN)
    assert first.returncode == second.returncode == 0
    user_calls = [r for r in fake.requests if r.path == "/user"]
    assert user_calls and all(r.status == 403 for r in user_calls)
    bot_comments = [c for c in fake.comments.values() if c["user"]["login"] == BOT["login"]]
    assert len(bot_comments) == 1 and len(fake.calls("POST")) == 1
    assert len(fake.calls("PATCH")) == 1
    assert fake.calls("PATCH")[0].path.endswith(f"/issues/comments/{bot_comments[0]['id']}")
    assert_token_never_shown(second, APP_TOKEN)


@pytest.mark.parametrize(("fault", "status", "expected"), [
    (("POST", r".*/issues/7/comments"), 403, "403: Resource not accessible by integration"),
    (("GET", r".*/issues/7/comments"), 500, "GitHub answered 500"),
    (("GET", r".*/issues/7/comments"), 502, "GitHub answered 502"),
])
def test_refusals_and_server_errors_are_warnings(tmp_path: Path, fake: FakeGitHub,
                                                 fault: tuple[str, str], status: int,
                                                 expected: str) -> None:
    fake.faults[fault] = (status, "Resource not accessible by integration" if status == 403
                          else "Server Error")
    run = run_summary(tmp_path, fake)
    assert run.returncode == 0, run.stderr
    assert "warning: the PR comment was not posted: " in run.stderr
    assert expected in run.stderr
    assert "::warning title=ci-toolkit summary::the PR comment was not posted" in run.stdout
    # Nothing is lost: summary file, job summary and outputs are all there.
    assert (tmp_path / "reports" / "summary.md").read_text(encoding="utf-8").startswith(MARKER)
    assert (tmp_path / "step_summary.md").read_text(encoding="utf-8").startswith(MARKER)
    assert "verdict=passed" in run.outputs()
    assert not fake.comments
    if status >= 500:  # reads are retried, then given up
        assert len(fake.calls("GET")) == 3
    assert_token_never_shown(run)


def test_unreachable_api_is_a_warning(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    run = run_summary(tmp_path, None, api_url=f"http://127.0.0.1:{closed_port}")
    assert run.returncode == 0, run.stderr
    assert f"could not reach the GitHub API at http://127.0.0.1:{closed_port}" in run.stderr
    assert_token_never_shown(run)


def test_missing_token_is_a_warning_with_the_fix(tmp_path: Path, fake: FakeGitHub) -> None:
    run = run_summary(tmp_path, fake, token=None)
    assert run.returncode == 0
    assert "GITHUB_TOKEN is not set" in run.stderr and "pull-requests: write" in run.stderr
    assert not fake.requests


def test_push_event_writes_step_summary_and_outputs_only(tmp_path: Path, fake: FakeGitHub) -> None:
    run = run_summary(tmp_path, fake, event="push")
    assert run.returncode == 0, run.stderr
    assert not fake.requests
    assert (tmp_path / "step_summary.md").read_text(encoding="utf-8").startswith(MARKER)
    outputs = run.outputs()
    assert "verdict=passed" in outputs and "summary_path=" in outputs
    assert_token_never_shown(run)


def test_failed_gate_still_comments_then_exits_1(tmp_path: Path, fake: FakeGitHub) -> None:
    run = run_summary(tmp_path, fake, "--fail-on-failed-stories",
                      report_name="coffeebot-failed-story")
    assert run.returncode == 1
    assert "error: 1 quality gate failed" in run.stderr
    assert "test story failed" in run.stderr or "test stories failed" in run.stderr
    assert len(fake.calls("POST")) == 1
    assert "❌ Failed" in fake.calls("POST")[0].body["body"]
    assert "verdict=failed" in run.outputs()
    assert_token_never_shown(run)


def test_enterprise_server_api_prefix_is_honoured(tmp_path: Path) -> None:
    state = FakeGitHub(tokens={TOKEN: ME}, prefix="/api/v3")
    with running_fake_github(state):
        run = run_summary(tmp_path, state)
    assert run.returncode == 0, run.stderr
    assert [r.method for r in state.requests] == ["GET", "POST"]
    assert len(state.comments) == 1


# -- GitHub faults: each a warning with the reason, exit 0, no traceback, no token ------------

HTML = ("text/html; charset=utf-8", HTML_PAGE)
NOT_THE_API = "did not answer as GitHub's REST API does"
# (name, what the fake does, extra CLI arguments, token, the reason the warning must give)
FAULTS = [
    ("list answers HTML", {"raw": {("GET", r".*/issues/7/comments"): (200, *HTML)}}, (), TOKEN,
     f"{NOT_THE_API}, for the comments of octo-org/coffee-assistant#7: an HTML page"),
    ("list answers a JSON object", {"raw": {("GET", r".*/issues/7/comments"):
                                            (200, "application/json", '{"ok": true}')}},
     (), TOKEN, "JSON of another shape (a dict)"),
    ("list answers broken JSON", {"raw": {("GET", r".*/issues/7/comments"):
                                          (200, "application/json", '[{"id": 1')}},
     (), TOKEN, "a body that is not valid JSON"),
    ("POST answers HTML", {"raw": {("POST", r".*/issues/7/comments"): (200, *HTML)}}, (), TOKEN,
     f"{NOT_THE_API}, for the new comment on octo-org/coffee-assistant#7: an HTML page"),
    ("GET /user answers HTML", {"ours": True, "raw": {("GET", r"/user"): (200, *HTML)}}, (),
     TOKEN, f"{NOT_THE_API}, for who the token belongs to (GET /user): an HTML page"),
    ("PATCH answers HTML", {"ours": True, "raw": {("PATCH", r".*/issues/comments/\d+"):
                                                  (200, *HTML)}},
     (), TOKEN, f"{NOT_THE_API}, for the update of comment"),
    ("5xx answers HTML", {"raw": {("GET", r".*/issues/7/comments"): (502, *HTML)}}, (), TOKEN,
     "GitHub answered 502 (an HTML page"),
    ("401 bad token", {}, (), "ghp_WRONG0123456789abcdefghij",
     "GitHub rejected the token (401: Bad credentials). Check that GITHUB_TOKEN is valid."),
    ("404 no such pull request", {}, ("--pr-number", "8"), TOKEN,
     "GitHub answered 404 for octo-org/coffee-assistant#8 (Not Found)"),
    ("422 refused", {"faults": {("POST", r".*/issues/7/comments"): (422, "Validation Failed")}},
     (), TOKEN, "GitHub refused the comment (422: Validation Failed)."),
]


@pytest.mark.parametrize(("setup", "args", "token", "reason"),
                         [case[1:] for case in FAULTS], ids=[case[0] for case in FAULTS])
def test_github_faults_are_warnings_with_the_reason(tmp_path: Path, fake: FakeGitHub,
                                                   setup: dict, args: tuple[str, ...], token: str,
                                                   reason: str) -> None:
    if setup.get("ours"):
        fake.add_comment(7, f"{MARKER}\nearlier run", ME)
    fake.raw_answers.update(setup.get("raw", {}))
    fake.faults.update(setup.get("faults", {}))
    run = run_summary(tmp_path, fake, *args, token=token)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "warning: the PR comment was not posted: " in run.stderr
    assert reason in run.stderr
    assert (tmp_path / "reports" / "summary.md").read_text(encoding="utf-8").startswith(MARKER)
    assert "verdict=passed" in run.outputs()
    assert_token_never_shown(run, token)


# -- the marker counts only as a comment's own first line ---------------------------------------

def test_a_marker_inside_another_assistants_report_never_takes_its_comment(
        tmp_path: Path, fake: FakeGitHub) -> None:
    beta_marker = "<!-- ci-toolkit:summary:beta -->"
    report = json.loads((REPORTS / "coffeebot-failed-story.json").read_text(encoding="utf-8"))
    story = report["core"]["failed_stories"][0]
    story["name"] = f"hijack {beta_marker}"
    story["yaml"] = f"{beta_marker}\n- story: hijack {beta_marker}\n  steps: []"
    report["assistant"]["name"] = "coffeebot"
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(report), encoding="utf-8")

    coffee = run_summary(tmp_path / "coffee", fake, report_path=hostile, token=APP_TOKEN)
    assert coffee.returncode == 0, coffee.stderr
    (coffee_comment,) = fake.comments.values()
    posted = coffee_comment["body"]
    assert posted.startswith(MARKER + "\n") and beta_marker in posted  # inside the YAML fence

    beta = run_summary(tmp_path / "beta", fake, "--assistant-name", "beta", token=APP_TOKEN)
    assert beta.returncode == 0, beta.stderr
    assert "PR comment created" in beta.stderr
    assert coffee_comment["body"] == posted  # untouched
    bodies = sorted(comment["body"].split("\n", 1)[0] for comment in fake.comments.values())
    assert bodies == [beta_marker, MARKER]

    again = run_summary(tmp_path / "beta2", fake, "--assistant-name", "beta", token=APP_TOKEN)
    assert "PR comment updated" in again.stderr and len(fake.comments) == 2
    assert coffee_comment["body"] == posted


HEAD_SHA = "c0ffee" * 6 + "beef"


def test_the_comment_names_the_prs_head_commit_not_the_merge_commit(
        tmp_path: Path, fake: FakeGitHub) -> None:
    # As `ci-toolkit run` writes it in Actions: run.commit is GITHUB_SHA, the merge commit.
    report = json.loads((REPORTS / "coffeebot.json").read_text(encoding="utf-8"))
    report["run"].update(commit="9" * 40, github={
        "server_url": "https://github.com", "repository": "octo-org/coffee-assistant",
        "run_id": "1", "run_url": "https://github.com/octo-org/coffee-assistant/actions/runs/1"})
    source = tmp_path / "source.json"
    source.write_text(json.dumps(report), encoding="utf-8")
    run = run_summary(tmp_path / "work", fake, head_sha=HEAD_SHA, report_path=source)
    assert run.returncode == 0, run.stderr
    body = fake.calls("POST")[0].body["body"]
    verdict = body.splitlines()[1]
    assert f"[`{HEAD_SHA[:7]}`](https://github.com/octo-org/coffee-assistant/commit/{HEAD_SHA})" \
        in verdict
    assert "9999999" not in body


STOPPED = "❌ ci-toolkit stopped before a report was written: "


# (reason given, a stale report in the way, exit code, what stderr says, the comment's line)
STOPPED_CASES = [
    ("the domain is malformed (domain.yml line 3)", False, 1,
     "the pipeline stopped before it wrote a report: the domain is malformed",
     STOPPED + "the domain is malformed (domain.yml line 3)"),
    ("", False, 2, "there is no report at", STOPPED + "the job log says why"),
    ("rasa is missing", True, 1, "the pipeline stopped before it wrote a report: rasa is",
     STOPPED + "rasa is missing"),
]


@pytest.mark.parametrize(("reason", "stale", "code", "error", "expected"), STOPPED_CASES)
def test_a_run_without_a_report_replaces_the_previous_comment_and_fails(
        tmp_path: Path, fake: FakeGitHub, reason: str, stale: bool, code: int, error: str,
        expected: str) -> None:
    first = run_summary(tmp_path / "one", fake)
    assert first.returncode == 0, first.stderr
    assert "✅" in our_comments(fake)[0]["body"].splitlines()[1]
    # A stale report (an earlier run's) is never summarised when the run says it stopped.
    stopped = run_summary(tmp_path / "two", fake, write_report=stale, head_sha=HEAD_SHA,
                          extra_env={"CI_TOOLKIT_FAILURE_REASON": reason,
                                     "CI_TOOLKIT_ASSISTANT_NAME": "coffeebot"})
    assert stopped.returncode == code, stopped.stderr
    assert error in stopped.stderr
    assert "PR comment updated" in stopped.stderr
    [comment] = our_comments(fake)
    assert len(fake.comments) == 1
    lines = comment["body"].splitlines()
    assert lines[0] == MARKER
    assert lines[1] == f"## {expected}"
    assert "✅" not in comment["body"]
    assert HEAD_SHA[:7] in comment["body"]
    assert expected in (tmp_path / "two" / "step_summary.md").read_text(encoding="utf-8")
    assert_token_never_shown(stopped)
