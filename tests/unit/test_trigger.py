"""The decision of the matrix workflows' first job: a label or a watched path on pull
requests, always on a schedule or a manual run; a malformed event payload is a clear error.
The changed files come from a real git repository."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from ci_toolkit import trigger
from ci_toolkit.errors import EXIT_USAGE, UsageError
from ci_toolkit.trigger import Decision, PullRequest, decide, glob_regex, watched

LABEL = "needs-nlu-test"
PATTERNS = ["bots/coffee/config.yml", "bots/coffee/data/**", "bots/coffee/requirements*.txt",
            ".github/workflows/assistant-cross-validation.yml"]


def pull_request(action: str = "synchronize", labels: Sequence[str] = (),
                 added: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"action": action, "pull_request": {
        "number": 7, "labels": [{"name": name, "color": "ededed"} for name in labels],
        "base": {"sha": "b" * 40, "ref": "main"}, "head": {"sha": "h" * 40, "ref": "feature"}}}
    if added is not None:
        event["label"] = {"name": added}
    return event


def changed(*paths: str):
    asked: list[PullRequest] = []

    def files(pull: PullRequest) -> list[str]:
        asked.append(pull)
        return list(paths)
    files.asked = asked  # type: ignore[attr-defined]
    return files


def never(pull: PullRequest) -> list[str]:
    raise AssertionError("the changed files were listed although the label decides")


# --- the decision ------------------------------------------------------------------------------


def test_the_label_on_the_pull_request_runs_the_jobs_without_looking_at_the_files() -> None:
    decision = decide("pull_request", pull_request(labels=["docs", LABEL]), label=LABEL,
                      patterns=PATTERNS, changed_files=never)
    assert decision == Decision(True, "label", LABEL)


def test_without_the_label_the_first_watched_file_that_changed_runs_the_jobs() -> None:
    files = changed("README.md", "bots/coffee/data/nlu/orders.yml", "bots/coffee/config.yml")
    decision = decide("pull_request", pull_request(labels=["docs"]), label=LABEL,
                      patterns=PATTERNS, changed_files=files)
    assert decision == Decision(True, "paths", "bots/coffee/data/nlu/orders.yml")
    assert files.asked[0].base_sha == "b" * 40 and files.asked[0].head_sha == "h" * 40


def test_neither_the_label_nor_a_watched_path_runs_nothing() -> None:
    decision = decide("pull_request", pull_request(), label=LABEL, patterns=PATTERNS,
                      changed_files=changed("README.md", "bots/coffee/tests/stories.yml"))
    assert not decision.run and decision.reason == "none"
    assert decision.outputs() == {"run": "false", "reason": "none", "detail": decision.detail}


def test_adding_the_label_runs_the_jobs_and_adding_another_label_does_not() -> None:
    # Another label on a pull request whose paths matched: its synchronize run has the
    # results already; a second run would only repeat them.
    files = changed("bots/coffee/config.yml")
    assert decide("pull_request", pull_request("labeled", [LABEL], added=LABEL), label=LABEL,
                  patterns=PATTERNS, changed_files=never) == Decision(True, "label", LABEL)
    other = decide("pull_request", pull_request("labeled", ["docs"], added="docs"),
                   label=LABEL, patterns=PATTERNS, changed_files=files)
    assert not other.run and "'docs'" in other.detail
    assert files.asked == []


@pytest.mark.parametrize(("event", "reason"), [("schedule", "schedule"),
                                               ("workflow_dispatch", "manual")])
def test_a_schedule_and_a_manual_run_always_run(event: str, reason: str) -> None:
    assert decide(event, {}, label=LABEL, patterns=PATTERNS,
                  changed_files=never) == Decision(True, reason)


def test_no_watched_paths_runs_every_pull_request() -> None:
    assert decide("pull_request", pull_request(), label=LABEL, patterns=[],
                  changed_files=never) == Decision(True, "every-pull-request")


def test_an_event_the_workflow_does_not_run_on_is_refused() -> None:
    with pytest.raises(UsageError, match="The event push is not one this workflow runs on"):
        decide("push", {}, label=LABEL, patterns=PATTERNS, changed_files=never)


@pytest.mark.parametrize(("event", "complaint"), [
    ({"action": "opened"}, "has no pull_request.labels"),
    ({"action": "opened", "pull_request": {"labels": "needs-nlu-test"}},
     "pull_request.labels is not a list of labels"),
    ({"action": "opened", "pull_request": {"labels": [{"color": "fff"}]}},
     "pull_request.labels is not a list of labels"),
    ({"action": "opened", "pull_request": {"labels": [], "head": {"sha": "h"}}},
     "has no pull_request.base.sha"),
    ({"action": "opened", "pull_request": {"labels": [], "base": {"sha": 3},
                                           "head": {"sha": "h"}}},
     "pull_request.base.sha is not a non-empty string"),
    ({"pull_request": {"labels": []}}, "has no action"),
    ({"action": "labeled", "pull_request": {"labels": [], "base": {"sha": "b"},
                                            "head": {"sha": "h"}}}, "has no label.name"),
])
def test_a_malformed_pull_request_payload_is_a_usage_error(event: dict[str, Any],
                                                           complaint: str) -> None:
    with pytest.raises(UsageError, match=complaint):
        decide("pull_request", event, label=LABEL, patterns=PATTERNS, changed_files=never)


# --- watched paths match as GitHub's filters do -----------------------------------------------


@pytest.mark.parametrize(("pattern", "path", "matches"), [
    ("data/**", "data/nlu/orders.yml", True),
    ("data/**", "data", False),
    ("data/**", "other/data/x.yml", False),
    ("requirements*.txt", "requirements-dev.txt", True),
    ("requirements*.txt", "sub/requirements.txt", False),
    ("**/config.yml", "config.yml", True),
    ("**/config.yml", "bots/coffee/config.yml", True),
    ("config.yml", "config.yaml", False),
    ("config.y?l", "config.yml", True),
    ("config.y[am]l", "config.yml", True),
    ("config.y[am]l", "config.yxl", False),
    ("my_nlu.py", "my_nluXpy", False),  # a dot is a dot
])
def test_patterns_match_like_a_paths_filter(pattern: str, path: str, matches: bool) -> None:
    assert bool(glob_regex(pattern).match(path)) is matches


def test_an_exclusion_after_a_pattern_takes_its_files_out() -> None:
    patterns = ["data/**", "!data/drafts/**"]
    assert watched("data/nlu.yml", patterns)
    assert not watched("data/drafts/new.yml", patterns)
    assert watched("data/drafts/new.yml", [*patterns, "data/drafts/new.yml"])  # last one wins


def test_patterns_are_one_a_line() -> None:
    assert trigger.parse_patterns("a.yml\n\n  data/**  \n# a comment\n") == ["a.yml", "data/**"]


# --- the command, in a real repository -----------------------------------------------------------


def git(repository: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com",
                           "-c", "commit.gpgsign=false", *args], cwd=repository, check=True,
                          capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """main: config.yml and data; the pull request changes config.yml and renames a file."""
    root = tmp_path / "repo"
    (root / "data").mkdir(parents=True)
    (root / "config.yml").write_text("pipeline: []  # base\n", encoding="utf-8")
    (root / "data" / "nlu.yml").write_text("nlu: []\n", encoding="utf-8")
    (root / "README.md").write_text("hi\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "feature")
    (root / "config.yml").write_text("pipeline: []  # pull request\n", encoding="utf-8")
    git(root, "mv", "README.md", "docs.md")
    git(root, "commit", "-qam", "change")
    return root


def run_main(repository: Path, tmp_path: Path, event: dict[str, Any] | str, *,
             event_name: str = "pull_request", paths: str = "config.yml",
             args: Sequence[str] = (), extra: dict[str, str] | None = None,
             ) -> tuple[int, dict[str, str], str]:
    payload = tmp_path / "event.json"
    payload.write_text(event if isinstance(event, str) else json.dumps(event), encoding="utf-8")
    output, summary = tmp_path / "output", tmp_path / "summary"
    output.write_text("", encoding="utf-8")
    summary.write_text("", encoding="utf-8")
    environ = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event_name,
               "GITHUB_EVENT_PATH": str(payload), "GITHUB_WORKSPACE": str(repository),
               "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
               "CI_TOOLKIT_TRIGGER_LABEL": LABEL, "CI_TOOLKIT_TRIGGER_PATHS": paths,
               **(extra or {})}
    code = trigger.main(["decide", *args], environ)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines()
                   if "=" in line and "<<" not in line)
    return code, outputs, summary.read_text(encoding="utf-8")


def shas(repository: Path) -> dict[str, Any]:
    return {"base": {"sha": git(repository, "rev-parse", "main")},
            "head": {"sha": git(repository, "rev-parse", "feature")}}


def test_the_command_lists_the_changed_files_with_git_and_says_why_it_runs(
        repository: Path, tmp_path: Path) -> None:
    event = {"action": "synchronize", "pull_request": {"labels": [], **shas(repository)}}
    code, outputs, summary = run_main(repository, tmp_path, event,
                                      paths="data/**\nconfig.yml")
    assert code == 0
    assert outputs == {"run": "true", "reason": "paths", "detail": "config.yml"}
    assert "**Triggered by** a watched path changed (first: `config.yml`)." in summary
    # A rename counts as both of its paths, as in GitHub's list of changed files.
    code, outputs, _ = run_main(repository, tmp_path, event, paths="README.md")
    assert outputs["run"] == "true" and outputs["detail"] == "README.md"
    code, outputs, summary = run_main(repository, tmp_path, event, paths="data/**")
    assert (code, outputs["run"]) == (0, "false")
    assert "**Skipped:** no watched path changed and the label is not set." in summary


def test_the_command_writes_both_configurations_to_compare(repository: Path,
                                                           tmp_path: Path) -> None:
    event = {"action": "opened", "pull_request": {"labels": [], **shas(repository)}}
    out = tmp_path / "configs"
    code, outputs, _ = run_main(repository, tmp_path, event, args=["--write-configs", str(out)])
    assert (code, outputs["run"]) == (0, "true")
    assert (out / "base.yml").read_text(encoding="utf-8") == "pipeline: []  # base\n"
    assert (out / "pull-request.yml").read_text(encoding="utf-8") == \
        "pipeline: []  # pull request\n"


def test_a_base_branch_without_the_configuration_has_nothing_to_compare(
        repository: Path, tmp_path: Path) -> None:
    (repository / "bots" / "new").mkdir(parents=True)
    (repository / "bots" / "new" / "config.yml").write_text("pipeline: []\n", encoding="utf-8")
    git(repository, "add", "-A")
    git(repository, "commit", "-qm", "a new assistant")
    event = {"action": "opened", "pull_request": {"labels": [{"name": LABEL}], **shas(repository)}}
    out = tmp_path / "configs"
    code, outputs, summary = run_main(
        repository, tmp_path, event, args=["--write-configs", str(out)],
        extra={"CI_TOOLKIT_CONFIGURATION": "bots/new/config.yml"})
    assert (code, outputs["run"], outputs["reason"]) == (0, "false", "none")
    assert "**Skipped:** the base branch has no bots/new/config.yml to compare with." in summary
    assert not out.exists()


def test_commits_missing_from_a_shallow_checkout_are_an_error_that_says_what_to_do(
        repository: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    event = {"action": "opened", "pull_request": {
        "labels": [], "base": {"sha": "0" * 40}, "head": {"sha": "1" * 40}}}
    code, _, _ = run_main(repository, tmp_path, event)
    assert code == 1
    assert "fetch-depth: 0" in capsys.readouterr().err


@pytest.mark.parametrize(("payload", "complaint"), [
    ("{not json", "is not valid JSON"),
    ("[1, 2]", "is not a JSON object"),
    (json.dumps({"action": "opened"}), "has no pull_request.labels"),
])
def test_a_malformed_payload_exits_2_with_a_clear_message(
        repository: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], payload: str,
        complaint: str) -> None:
    code, outputs, summary = run_main(repository, tmp_path, payload)
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert complaint in err and "Traceback" not in err
    assert "run" not in outputs and "ci-toolkit error" in summary


def test_a_missing_payload_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    environ = {"GITHUB_EVENT_NAME": "pull_request",
               "GITHUB_EVENT_PATH": str(tmp_path / "missing.json")}
    assert trigger.main(["decide"], environ) == EXIT_USAGE
    assert "cannot be read" in capsys.readouterr().err
    assert trigger.main(["decide"], {"GITHUB_EVENT_NAME": "schedule"}) == EXIT_USAGE
    assert "GITHUB_EVENT_PATH is not set" in capsys.readouterr().err


def test_the_module_imports_only_the_standard_library_and_toolkit_modules_that_do() -> None:
    # The decide action runs it before anything is installed.
    code = ("import sys; sys.modules['click'] = None; sys.modules['yaml'] = None; "
            "import ci_toolkit.trigger")
    done = subprocess.run([__import__("sys").executable, "-c", code], capture_output=True,
                          text=True, cwd=Path(trigger.__file__).parents[1])
    assert done.returncode == 0, done.stderr
