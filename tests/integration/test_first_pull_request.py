"""A team's first pull requests, end to end: `ci-toolkit scaffold` writes the workflows into a
copy of the example assistant, and the CI workflow's job (assistant-ci.yml, `assistant`) runs
step by step (workflow_runner.py) with this checkout's action.yml nested in it, real rasa and
a fake GitHub that checks requests as the API does.

The main branch runs the CD workflow's `model` job once for the module (the one training,
testing and 3-fold cross-validation from scratch, of a configuration without TensorFlow): it uploads the report artifact that pull
requests download as their baseline, and saves the stage cache they restore, as on GitHub.
What GitHub's own actions do (checkout, cache, artifacts, `gh`) is emulated
(workflow_runner.GitHubEmulation), and the action's install step is replaced by the rasa we
have and this checkout's ci-toolkit (test_action_install.py tests the real install).

The runner's workspace and temp directory are the same paths in every job, as on GitHub.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ci_toolkit.cli import main
from ci_toolkit.scaffold.context import MODEL_ARTIFACT, REPORT_ARTIFACT
from ci_toolkit.scaffold.options import DEFAULT_ACTION_REPO
from tests.fakes.github_server import BOT, FakeGitHub, running_fake_github
from tests.integration.composite_runner import CompositeRun
from tests.integration.workflow_runner import (
    GitHubEmulation,
    JobRun,
    install_gh,
    run_job,
    runner_environ,
)
from tests.rasa_support import copy_example, rasa_executable, use_light_nlu_pipeline

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
CI, CD = ".github/workflows/assistant-ci.yml", ".github/workflows/assistant-cd.yml"
LOCAL_ACTIONS = {DEFAULT_ACTION_REPO: REPO_ROOT / "action.yml",
                 f"{DEFAULT_ACTION_REPO}/action-server": REPO_ROOT / "action-server" / "action.yml",
                 f"{DEFAULT_ACTION_REPO}/deploy": REPO_ROOT / "deploy" / "action.yml"}
REPOSITORY, REPOSITORY_ID, PR = "octo-org/coffee-assistant", 1296269, 7
TOKEN = "ghs_FAKEinstallation0123456789xyz"  # the job's token: posts as github-actions[bot]
FORK_TOKEN = "ghs_FAKEforkReadOnly0123456789ab"  # a fork's pull request: read-only
MAIN_SHA, MAIN_RUN = "a1" * 20, 4001
HEAD_SHA, MERGE_SHA = "c0ffee" * 6 + "beef", "9" * 40
MARKER = "<!-- ci-toolkit:summary:coffee -->"


@dataclass
class Runner:
    """The runner machine: the same workspace and temp paths for every job, and the
    storage GitHub keeps between jobs (caches, artifacts)."""

    root: Path

    @property
    def workspace(self) -> Path:
        return self.root / "work" / "coffee-assistant"

    @property
    def temp(self) -> Path:
        return self.root / "temp"

    def fresh(self) -> None:
        for directory in (self.workspace, self.temp, self.root / "job"):
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir(parents=True)


def play_install(run: CompositeRun, step: dict[str, Any], step_id: str) -> bool:
    """The action's install steps, played: the rasa we have and this checkout's ci-toolkit
    (pip-installing rasa takes minutes; test_action_install.py runs the real steps)."""
    if run.action_file != LOCAL_ACTIONS[DEFAULT_ACTION_REPO] or step_id not in (
            "install", "toolkit"):
        return False
    outputs = {}
    if step_id == "install":  # "toolkit" installs ci-toolkit alone, for the summary
        assert run.substitute(step["env"]["CI_TOOLKIT_RASA_REQUIREMENTS"]) == "requirements.txt"
        outputs["rasa"] = rasa_executable()
    run.steps[step_id] = {"outputs": outputs, "outcome": "success"}
    with (run.work_dir / "github_path").open("a", encoding="utf-8") as path_file:
        path_file.write(f"{Path(sys.executable).parent}\n")
    return True


def run_workflow_job(runner: Runner, source: Path, workflow: str, job: str, *,
                     github: dict[str, str], event: dict[str, Any],
                     fake: FakeGitHub | None) -> tuple[JobRun, GitHubEmulation]:
    runner.fresh()
    event_path = runner.root / "job" / "event.json"
    event_path.write_text(json.dumps(event), encoding="utf-8")
    github = {**github, "workspace": str(runner.workspace), "event_path": str(event_path),
              "repository": REPOSITORY, "repository_id": str(REPOSITORY_ID),
              "server_url": "https://github.com", "action_path": ""}
    emulation = GitHubEmulation(
        workspace=runner.workspace, source=source, caches=runner.root / "caches",
        artifacts=runner.root / "artifacts", fake=fake, run_id=int(github["run_id"]),
        head_branch=github.get("head_ref") or github["ref_name"], head_sha=github["sha"])
    environ = runner_environ(github, os.environ)
    # The runner image's `gh` (a test double that talks to the fake GitHub) comes first.
    environ["PATH"] = f"{install_gh(runner.root / 'bin')}{os.pathsep}{environ['PATH']}"
    environ["GITHUB_STEP_SUMMARY"] = str(runner.temp / "summary.md")
    done = run_job(source / workflow, job, github=github,
                   runner={"os": "Linux", "arch": "X64", "temp": str(runner.temp)},
                   environ=environ, work_dir=runner.root / "job", on_uses=emulation.on_uses,
                   local_actions=LOCAL_ACTIONS,
                   uses_outputs={"actions/setup-python": {"python-path": sys.executable}},
                   play=play_install)
    return done, emulation


@dataclass
class MainBranch:
    run: JobRun
    report: dict[str, Any]
    uploads: list[tuple[str, int, str, str]]  # (artifact, run id, branch, commit)

    def publish(self, fake: FakeGitHub) -> None:
        """What the artifacts API lists once the main-branch run has uploaded."""
        for upload in self.uploads:
            fake.add_artifact(*upload)


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    return Runner(tmp_path_factory.mktemp("runner").resolve())


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The team's repository after `ci-toolkit scaffold coffee` (the real command)."""
    root = tmp_path_factory.mktemp("origin") / "coffee-assistant"
    (root / ".git").mkdir(parents=True)
    copy_example(root / "coffee")
    # A model without TensorFlow: these runs are about the workflows and the comments; the
    # example's own model is trained and tested by the suite's cold run (conftest.full_run).
    use_light_nlu_pipeline(root / "coffee", light_policies=True)
    assert main(["scaffold", str(root / "coffee")]) == 0
    return root


@pytest.fixture(scope="module")
def main_branch(runner: Runner, origin: Path) -> Iterator[MainBranch]:
    """The CD workflow's `model` job on a push to main: train, test, cross-validate."""
    with running_fake_github(FakeGitHub(tokens={TOKEN: None})) as fake:
        done, emulation = run_workflow_job(
            runner, origin, CD, "model", fake=None,
            github={"event_name": "push", "sha": MAIN_SHA, "ref": "refs/heads/main",
                    "ref_name": "main", "base_ref": "", "head_ref": "", "token": TOKEN,
                    "run_id": str(MAIN_RUN), "api_url": fake.base_url},
            event={"ref": "refs/heads/main", "after": MAIN_SHA, "head_commit": {"id": MAIN_SHA}})
        assert not done.failed, done.log()[-8000:]
        assert done.run.nested["pipeline"].unexpected_inputs == []
        assert not fake.requests  # publish_summary: "false"
    report = json.loads((runner.workspace / "coffee" / "reports" / "report.json")
                        .read_text(encoding="utf-8"))
    uploads = [(values["name"], MAIN_RUN, "main", MAIN_SHA)
               for values in emulation.with_values("actions/upload-artifact")]
    assert REPORT_ARTIFACT in [name for name, *_ in uploads]
    stored = runner.root / "artifacts" / str(MAIN_RUN)
    assert [path.name for path in (stored / REPORT_ARTIFACT).iterdir()] == ["report.json"]
    assert len(list((stored / MODEL_ARTIFACT).glob("*.tar.gz"))) == 1  # for the deploy job
    # It saved its stage cache for pull requests (and restored none: it is deployed).
    assert emulation.with_values("actions/cache/save")
    assert not [v for v in emulation.with_values("actions/cache") if "stages" in v["key"]]
    yield MainBranch(done, report, uploads)


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with running_fake_github(FakeGitHub(repository=REPOSITORY, pull_requests=(PR,),
                                        tokens={TOKEN: None, FORK_TOKEN: None},
                                        read_only={FORK_TOKEN})) as state:
        yield state


def pull_request(runner: Runner, origin: Path, fake: FakeGitHub, tmp_path: Path, *,
                 change: Callable[[Path], None] | None = None, fork: bool = False,
                 name: str = "pr") -> tuple[JobRun, GitHubEmulation]:
    """The CI workflow's job on a push to pull request #7 (CHANGE applied to the project)."""
    source = tmp_path / name
    shutil.copytree(origin, source, symlinks=True)
    if change is not None:
        change(source / "coffee")
    head = {"sha": HEAD_SHA, "ref": "menu",
            "repo": {"full_name": "alice/coffee-assistant" if fork else REPOSITORY,
                     "fork": fork}}
    event = {"action": "synchronize", "number": PR,
             "pull_request": {"number": PR, "head": head,
                              "base": {"ref": "main", "sha": MAIN_SHA,
                                       "repo": {"full_name": REPOSITORY}}},
             "repository": {"full_name": REPOSITORY, "id": REPOSITORY_ID}}
    return run_workflow_job(
        runner, source, CI, "assistant", fake=fake, event=event,
        github={"event_name": "pull_request", "sha": MERGE_SHA, "ref": f"refs/pull/{PR}/merge",
                "ref_name": f"{PR}/merge", "base_ref": "main", "head_ref": "menu",
                "token": FORK_TOKEN if fork else TOKEN, "run_id": "5001",
                "api_url": fake.base_url})


def our_comments(fake: FakeGitHub) -> list[dict[str, Any]]:
    return [c for c in fake.comments.values() if c["body"].startswith(MARKER + "\n")]


def verdict_line(comment: dict[str, Any]) -> str:
    return comment["body"].splitlines()[1]


def pipeline(done: JobRun) -> CompositeRun:
    return done.run.nested["pipeline"]


def report_of(runner: Runner) -> dict[str, Any]:
    path = runner.workspace / "coffee" / "reports" / "report.json"
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_first_pull_request_posts_its_verdict_without_a_baseline(
        runner: Runner, origin: Path, main_branch: MainBranch, fake: FakeGitHub,
        tmp_path: Path) -> None:
    # No report artifact is listed (none uploaded yet, or all expired): no baseline. The
    # stage cache main saved is restored all the same, only to spare this test a training.
    done, emulation = pull_request(runner, origin, fake, tmp_path)
    assert not done.failed, done.log()[-8000:]
    assert done.run.steps["baseline"]["outputs"]["run_id"] == ""
    listing = [r for r in fake.requests if r.path.endswith("/actions/artifacts")]
    assert listing and listing[0].query["name"] == [REPORT_ARTIFACT]
    assert listing[0].headers["Authorization"] == f"token {TOKEN}"
    assert not emulation.with_values("actions/download-artifact")
    # GitHub drops an input the action does not declare, with only a warning.
    assert pipeline(done).unexpected_inputs == []
    assert pipeline(done).steps["run"]["outcome"] == "success"
    assert done.run.steps["pipeline"]["outputs"]["verdict"] == "passed"
    [comment] = our_comments(fake)
    assert comment["user"]["login"] == BOT["login"]
    assert verdict_line(comment).startswith("## ✅")
    assert HEAD_SHA[:7] in verdict_line(comment) and MERGE_SHA[:7] not in comment["body"]
    assert "no baseline" in comment["body"]
    assert "::warning title=ci-toolkit baseline::" in done.log()  # no file: a warning
    [checkout] = emulation.with_values("actions/checkout")
    assert checkout["persist-credentials"] == "false"
    [results] = emulation.with_values("actions/upload-artifact")
    assert results["path"].split() == ["coffee/results", "coffee/reports"]


def _break_a_test_story(project: Path) -> None:
    stories = project / "tests" / "test_stories.yml"
    text = stories.read_text(encoding="utf-8")
    assert "      - action: utter_iamabot\n" in text
    stories.write_text(text.replace("      - action: utter_iamabot\n",
                                    "      - action: utter_greet\n"), encoding="utf-8")


def test_a_failing_test_story_fails_the_job_and_the_comment_shows_it(
        runner: Runner, origin: Path, main_branch: MainBranch, fake: FakeGitHub,
        tmp_path: Path) -> None:
    main_branch.publish(fake)
    done, _ = pull_request(runner, origin, fake, tmp_path, change=_break_a_test_story)
    assert done.failed, done.log()[-8000:]
    assert done.run.steps["pipeline"]["outcome"] == "failure"
    assert done.run.steps["pipeline"]["outputs"]["verdict"] == "failed"
    report = report_of(runner)
    failed = [(gate["kind"], gate["metric"]) for gate in report["gates"] if not gate["passed"]]
    # The failed story, and the story metrics it pulled down more than the default max drop.
    assert "failed_stories" in {kind for kind, _ in failed}, failed
    assert {kind for kind, _ in failed} <= {"failed_stories", "max_drop"}, failed
    assert all(metric.startswith("core.") for kind, metric in failed if kind == "max_drop")
    # The training and cross-validation inputs did not change: restored, not rerun.
    stages = {stage["name"]: (stage["status"], stage["cached"]) for stage in report["stages"]}
    assert stages["train"][1] and stages["cross_validate"][1], stages
    assert stages["test_core"][1] is False, stages  # the test stories changed: rerun
    [comment] = our_comments(fake)
    assert verdict_line(comment).startswith("## ❌")
    assert "ask if it is a bot" in comment["body"]
    assert "1 story newly failing" in comment["body"]
    # The results are uploaded even though the job failed.
    assert done.run.steps["__step4"]["outcome"] == "success"


def test_a_pull_request_from_a_fork_gets_a_warning_not_a_comment(
        runner: Runner, origin: Path, main_branch: MainBranch, fake: FakeGitHub,
        tmp_path: Path) -> None:
    main_branch.publish(fake)
    done, _ = pull_request(runner, origin, fake, tmp_path, fork=True)
    assert not done.failed, done.log()[-8000:]
    assert done.run.steps["pipeline"]["outputs"]["verdict"] == "passed"
    assert not fake.comments
    refused = [r for r in fake.requests if r.method == "POST"]
    assert [r.status for r in refused] == [403]
    log = done.log()
    assert "::warning title=ci-toolkit summary::the PR comment was not posted" in log
    assert "forks get a read-only token" in log
    assert "Traceback" not in log
    # The fork's run still found the main branch's report (reading needs no write access).
    assert done.run.steps["baseline"]["outputs"]["run_id"] == str(MAIN_RUN)


def _break_the_domain(project: Path) -> None:
    domain = project / "domain.yml"
    domain.write_text(domain.read_text(encoding="utf-8") + "\nintents: [greet\n",
                      encoding="utf-8")


def _pin_an_unsupported_rasa(project: Path) -> None:
    # rasa 3.2 needs Python 3.8 or 3.9: the action refuses it at its first step.
    (project / "requirements.txt").write_text("rasa==3.2.0\n", encoding="utf-8")


# The comment quotes ci-toolkit's own error (its step output `error`), escaped.
RUN_STOPPED = ("ci-toolkit run stopped before it wrote report.json (step \"Validate, train and "
               "test\"): The domain file domain.yml:")


@pytest.mark.parametrize(("change", "stopped_step", "reason"), [
    (_break_the_domain, "run", (RUN_STOPPED, "is not valid YAML")),
    (_pin_an_unsupported_rasa, "prepare",
     ("the action refused its inputs (step \"Check the inputs\"): ",
      "requirements.txt pins rasa==3.2.0: rasa_version '3.2.0' is not supported")),
], ids=["malformed domain", "unsupported rasa pin"])
def test_a_run_that_stops_before_a_report_replaces_the_comment_with_the_reason(
        runner: Runner, origin: Path, main_branch: MainBranch, fake: FakeGitHub,
        tmp_path: Path, change: Callable[[Path], None], stopped_step: str,
        reason: tuple[str, str]) -> None:
    main_branch.publish(fake)
    first, _ = pull_request(runner, origin, fake, tmp_path, name="first")
    assert not first.failed, first.log()[-8000:]
    [comment] = our_comments(fake)
    assert verdict_line(comment).startswith("## ✅")

    broken, _ = pull_request(runner, origin, fake, tmp_path, change=change, name="broken")
    assert broken.failed
    action = pipeline(broken)
    assert action.steps[stopped_step]["outcome"] == "failure", broken.log()[-8000:]
    assert action.steps["run"]["outputs"].get("report_path", "") == ""
    if action.steps["summary"]["outcome"] == "skipped":
        pytest.fail(
            f"action.yml: the run stopped at step {stopped_step!r} and the step 'Summary and "
            "pull request comment' was skipped, so the pull request still shows the previous "
            f"run's ✅:\n{verdict_line(comment)}\nIt runs only when rasa and ci-toolkit (or "
            "ci-toolkit alone) were installed; a failure before the install step installs "
            "neither. Every outcome must replace the sticky comment.")
    [comment] = our_comments(fake)
    assert len(fake.comments) == 1 and [r.method for r in fake.requests].count("PATCH") == 1
    stopped = "## ❌ ci-toolkit stopped before a report was written: "
    assert verdict_line(comment).startswith(stopped), verdict_line(comment)
    # The reason: which step stopped, then ci-toolkit's own error (the step output `error`).
    step_said, error_said = reason
    assert verdict_line(comment).startswith(stopped + step_said), verdict_line(comment)
    assert error_said in verdict_line(comment), verdict_line(comment)
    assert "✅" not in comment["body"]
    assert HEAD_SHA[:7] in comment["body"]


def test_a_pull_request_after_a_main_branch_run_is_compared_with_it_cross_validation_too(
        runner: Runner, origin: Path, main_branch: MainBranch, fake: FakeGitHub,
        tmp_path: Path) -> None:
    assert main_branch.report["cross_validation"] is not None
    main_branch.publish(fake)
    done, emulation = pull_request(runner, origin, fake, tmp_path)
    assert not done.failed, done.log()[-8000:]
    assert done.run.steps["baseline"]["outputs"]["run_id"] == str(MAIN_RUN)
    [download] = emulation.with_values("actions/download-artifact")
    assert download == {"name": REPORT_ARTIFACT, "path": f"{runner.temp}/baseline",
                        "run-id": str(MAIN_RUN), "github-token": TOKEN}
    assert pipeline(done).inputs["baseline"] == f"{runner.temp}/baseline/report.json"
    report = report_of(runner)
    drops = {gate["metric"]: gate for gate in report["gates"]
             if gate["kind"] == "max_drop" and not gate["skipped"]}
    cross_validation = [m for m in drops if m.startswith("cross_validation.")]
    assert cross_validation, drops
    assert all(drops[m]["baseline"] is not None and drops[m]["passed"]
               for m in cross_validation)
    [comment] = our_comments(fake)
    body = comment["body"]
    assert verdict_line(comment).startswith("## ✅")
    assert f"against [`{MAIN_SHA[:7]}`](https://github.com/{REPOSITORY}/commit/{MAIN_SHA})" \
        in body
    assert "no change against the baseline" in body
