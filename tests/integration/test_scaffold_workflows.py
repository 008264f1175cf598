"""The workflows scaffold writes, fed to this repository's actions as GitHub would run them
(tests/integration/composite_runner.py, workflow_runner.py), up to the install step: no rasa
needed.

- a pull request that bumps rasa in requirements.txt installs the new rasa (the pin is read
  at run time, not frozen into the workflow);
- the main-branch run saves the stage cache (cross-validation included) under the key that a
  tests-only pull request restores, and restores nothing itself;
- the matrix workflows (docs/matrix-workflows.md), no rasa either: the decide job
  (matrix/decide) on fabricated event payloads in a real git repository (which trigger fired,
  the two configurations the comparison gets); a shard job's action up to its command (the
  matrix value, the command and its environment, the report it uploads); the merge job
  (matrix/merge) on shard reports made by hand, merge and summary for real.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ci_toolkit.cli import main
from ci_toolkit.scaffold.options import DEFAULT_ACTION_REPO
from tests.integration.composite_runner import CompositeRun
from tests.integration.workflow_runner import run_job, runner_environ
from tests.rasa_support import copy_example
from tests.unit.test_trigger import git

REPO_ROOT = Path(__file__).resolve().parents[2]
CI, CD = ".github/workflows/assistant-ci.yml", ".github/workflows/assistant-cd.yml"


@pytest.fixture
def repo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    copy_example(root / "bots" / "coffee")
    assert main(["scaffold", str(root / "bots" / "coffee")]) == 0, capsys.readouterr().err
    return root


def pipeline_inputs(repo: Path, workflow: str, job: str) -> dict[str, str]:
    steps = yaml.safe_load((repo / workflow).read_text(encoding="utf-8"))["jobs"][job]["steps"]
    step = next(step for step in steps if step.get("id") == "pipeline")
    assert step["uses"].split("@")[0] == DEFAULT_ACTION_REPO  # this repository's action.yml
    return {name: str(value) for name, value in step["with"].items()}


def run_until_install(repo: Path, inputs: dict[str, str], work: Path) -> CompositeRun:
    """Run action.yml with the workflow's inputs; stop where it would install rasa."""
    work.mkdir()
    (work / "temp").mkdir()
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(("CI_TOOLKIT_", "GITHUB_"))}
    run = CompositeRun(
        action_file=REPO_ROOT / "action.yml", inputs=dict(inputs),
        github={"workspace": str(repo), "token": "", "action_path": str(REPO_ROOT)},
        runner={"os": "Linux", "arch": "X64", "temp": str(work / "temp")},
        environ=environ, work_dir=work,
        uses_outputs={"actions/setup-python": {"python-path": sys.executable}})
    original = run._run_script

    def run_script(step: dict[str, Any], step_id: str) -> None:
        if step_id == "install":
            run.failed = True  # stop here: every later step needs success()
            run.steps[step_id] = {"outputs": {}, "outcome": "skipped"}
            return
        original(step, step_id)

    run._run_script = run_script  # type: ignore[method-assign]
    run.run()
    assert run.steps["prepare"]["outcome"] == "success", "\n".join(run.log)
    return run


def test_a_pull_request_that_bumps_rasa_in_requirements_txt_installs_the_new_rasa(
        repo: Path, tmp_path: Path) -> None:
    inputs = pipeline_inputs(repo, CI, "assistant")
    assert "rasa_version" not in inputs and inputs["rasa_requirements"] == "requirements.txt"
    before = run_until_install(repo, inputs, tmp_path / "before").steps["prepare"]["outputs"]
    (repo / "bots" / "coffee" / "requirements.txt").write_text("rasa==3.6.20\n",
                                                                encoding="utf-8")
    after = run_until_install(repo, inputs, tmp_path / "after").steps["prepare"]["outputs"]
    assert (before["rasa_version"], after["rasa_version"]) == ("3.6.21", "3.6.20")
    assert before["pip_cache_key"] != after["pip_cache_key"]


def _cache_steps(run: CompositeRun) -> dict[str, bool]:
    """Whether the action's restore and save steps would run, had the pipeline passed."""
    action = yaml.safe_load((REPO_ROOT / "action.yml").read_text(encoding="utf-8"))
    run.failed = False
    run.steps["run"] = {"outputs": {"report_path": "reports/report.json"}, "outcome": "success"}
    return {step["name"]: run.condition(step) for step in action["runs"]["steps"]
            if "actions/cache" in step.get("uses", "") and "pip" not in step["name"]}


def test_the_main_branch_saves_the_cache_a_tests_only_pull_request_restores(
        repo: Path, tmp_path: Path) -> None:
    main_inputs = pipeline_inputs(repo, CD, "model")
    pr_inputs = pipeline_inputs(repo, CI, "assistant")
    # Cross-validation runs in both, so the baseline has the numbers the PR is compared with.
    assert main_inputs["cross_validation"] == pr_inputs["cross_validation"] == "true"
    main_run = run_until_install(repo, main_inputs, tmp_path / "main")
    assert _cache_steps(main_run) == {"Restore the stage cache and rasa's cache": False,
                                      "Save the stage cache and rasa's cache": True}
    saved = main_run.steps["prepare"]["outputs"]

    stories = repo / "bots" / "coffee" / "tests" / "test_stories.yml"
    stories.write_text(stories.read_text(encoding="utf-8") + "\n# a tests-only change\n",
                       encoding="utf-8")
    pr_run = run_until_install(repo, pr_inputs, tmp_path / "tests-only")
    assert _cache_steps(pr_run) == {"Restore the stage cache and rasa's cache": True,
                                    "Save the stage cache and rasa's cache": False}
    assert pr_run.steps["prepare"]["outputs"]["cache_key"] == saved["cache_key"]

    nlu = next((repo / "bots" / "coffee" / "data").rglob("*.yml"))
    nlu.write_text(nlu.read_text(encoding="utf-8") + "\n# a data change\n", encoding="utf-8")
    changed = run_until_install(repo, pr_inputs, tmp_path / "data").steps["prepare"]["outputs"]
    assert changed["cache_key"] != saved["cache_key"]  # restored by prefix: the stage cache
    assert changed["cache_restore_key"] == saved["cache_restore_key"]  # reuses what it can


# --- the matrix workflows' decide job, on fabricated event payloads -------------------------

DECIDE = f"{DEFAULT_ACTION_REPO}/matrix/decide"
CV, COMPARE = (".github/workflows/assistant-cross-validation.yml",
               ".github/workflows/assistant-config-comparison.yml")
ORIGINAL_CONFIG = "original config"


@pytest.fixture
def pull_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """A repository with the scaffolded workflows on main and a pull request that changes the
    assistant's config.yml; the event payload GitHub would write for it."""
    root = tmp_path / "repo"
    copy_example(root / "bots" / "coffee")
    git(root, "init", "-q", "-b", "main")
    assert main(["scaffold", str(root / "bots" / "coffee")]) == 0, capsys.readouterr().err
    config = root / "bots" / "coffee" / "config.yml"
    config.write_text(f"# {ORIGINAL_CONFIG}\n" + config.read_text(encoding="utf-8"),
                      encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "the assistant")
    base = git(root, "rev-parse", "HEAD")
    git(root, "checkout", "-q", "-b", "feature")
    config.write_text(config.read_text(encoding="utf-8") + "# a new pipeline\n",
                      encoding="utf-8")
    git(root, "commit", "-qam", "a new pipeline")
    return {"root": root, "event": {"action": "synchronize", "number": 3, "pull_request": {
        "number": 3, "labels": [], "base": {"sha": base, "ref": "main"},
        "head": {"sha": git(root, "rev-parse", "HEAD"), "ref": "feature"}}}}


def run_decide(root: Path, workflow: str, event_name: str, event: dict[str, Any],
               work: Path) -> tuple[dict[str, str], list[tuple[str, dict[str, str]]], str]:
    """The workflow's decide job as GitHub runs it: outputs, the other actions' inputs, the
    job summary. The repository is the checkout (fetch-depth: 0: all of its history)."""
    work.mkdir()
    (work / "temp").mkdir()
    (work / "event.json").write_text(json.dumps(event), encoding="utf-8")
    summary = work / "summary.md"
    summary.touch()
    github = {"workspace": str(root), "event_name": event_name,
              "event_path": str(work / "event.json"), "token": "", "run_id": "1"}
    calls: list[tuple[str, dict[str, str]]] = []

    def on_uses(target: str, values: dict[str, str]) -> None:
        calls.append((target, values))
        if target == "actions/upload-artifact":  # what it would upload
            values["files"] = " ".join(sorted(
                path.name for path in Path(values["path"]).iterdir()))

    job = run_job(root / workflow, "decide", github=github,
                  runner={"os": "Linux", "arch": "X64", "temp": str(work / "temp")},
                  environ={**runner_environ(github, os.environ),
                           "GITHUB_STEP_SUMMARY": str(summary)},
                  work_dir=work, on_uses=on_uses,
                  local_actions={DECIDE: REPO_ROOT / "matrix" / "decide" / "action.yml"},
                  uses_outputs={"actions/setup-python": {"python-path": sys.executable}})
    assert not job.failed, job.log()
    return job.outputs, calls, summary.read_text(encoding="utf-8")


def test_the_cross_validation_runs_on_a_watched_path_the_label_or_the_schedule(
        pull_request: dict[str, Any], tmp_path: Path) -> None:
    root, event = pull_request["root"], pull_request["event"]
    outputs, calls, summary = run_decide(root, CV, "pull_request", event, tmp_path / "paths")
    assert outputs == {"run": "true", "reason": "paths"}
    assert "first: `bots/coffee/config.yml`" in summary
    assert calls[0] == ("actions/checkout", {"fetch-depth": "0", "persist-credentials": "false"})

    other = {**event, "action": "labeled", "label": {"name": "docs"}}
    outputs, _, summary = run_decide(root, CV, "pull_request", other, tmp_path / "other-label")
    assert outputs["run"] == "false" and "Skipped" in summary

    labelled = {**event, "action": "labeled", "label": {"name": "needs-nlu-test"}}
    outputs, _, summary = run_decide(root, CV, "pull_request", labelled, tmp_path / "label")
    assert outputs == {"run": "true", "reason": "label"}
    assert "the label `needs-nlu-test`" in summary

    outputs, _, summary = run_decide(root, CV, "schedule", {"schedule": "0 4 * * 1"},
                                     tmp_path / "schedule")
    assert outputs == {"run": "true", "reason": "schedule"}


def test_the_config_comparison_uploads_the_base_and_the_pull_requests_config(
        pull_request: dict[str, Any], tmp_path: Path) -> None:
    root, event = pull_request["root"], pull_request["event"]
    outputs, calls, _ = run_decide(root, COMPARE, "pull_request", event, tmp_path / "compare")
    assert outputs == {"run": "true", "reason": "paths"}
    upload = dict(calls)["actions/upload-artifact"]
    assert upload["name"] == "config-comparison-configs"
    assert upload["files"] == "base.yml pull-request.yml"
    configs = Path(upload["path"])
    base = (configs / "base.yml").read_text(encoding="utf-8")
    assert ORIGINAL_CONFIG in base and "a new pipeline" not in base
    assert (configs / "pull-request.yml").read_text(encoding="utf-8").endswith(
        "# a new pipeline\n")
    # A pull request that leaves config.yml alone compares nothing and uploads nothing.
    stories = root / "bots" / "coffee" / "tests" / "test_stories.yml"
    git(root, "checkout", "-q", "-b", "tests-only", event["pull_request"]["base"]["sha"])
    stories.write_text(stories.read_text(encoding="utf-8") + "\n# more\n", encoding="utf-8")
    git(root, "commit", "-qam", "tests only")
    event["pull_request"]["head"]["sha"] = git(root, "rev-parse", "HEAD")
    outputs, calls, _ = run_decide(root, COMPARE, "pull_request", event, tmp_path / "none")
    assert outputs["run"] == "false"
    assert "actions/upload-artifact" not in dict(calls)


# --- the cross-validation's merge job, on shard reports made by hand -------------------------

MERGE = f"{DEFAULT_ACTION_REPO}/matrix/merge"


def run_merge(root: Path, shard_reports: list[dict[str, Any]], work: Path,
              workflow: str = CV) -> tuple[Any, str]:
    """The merge job of a scaffolded matrix workflow after a scheduled run (no comment): the
    shard artifacts are "downloaded" from SHARD_REPORTS; merge and summary run for real, with
    this checkout's ci-toolkit (the install step is played)."""
    work.mkdir()
    (work / "temp").mkdir()
    (work / "event.json").write_text("{}", encoding="utf-8")
    summary = work / "summary.md"
    summary.touch()
    github = {"workspace": str(root), "event_name": "schedule",
              "event_path": str(work / "event.json"), "token": "", "run_id": "1"}

    def on_uses(target: str, values: dict[str, str]) -> None:
        if target == "actions/download-artifact":
            prefix = values["pattern"].rstrip("*")
            for index, content in enumerate(shard_reports, start=1):
                path = Path(values["path"]) / f"{prefix}{index}"
                path.mkdir(parents=True)
                (path / "shard-report.json").write_text(json.dumps(content), encoding="utf-8")

    def play(run: CompositeRun, step: dict[str, Any], step_id: str) -> bool:
        if step_id != "install":
            return False
        (work / "github_path").write_text(f"{Path(sys.executable).parent}\n", encoding="utf-8")
        run.steps[step_id] = {"outputs": {}, "outcome": "success"}
        return True

    job = run_job(root / workflow, "merge", github=github,
                  runner={"os": "Linux", "arch": "X64", "temp": str(work / "temp")},
                  environ={**runner_environ(github, os.environ),
                           "GITHUB_STEP_SUMMARY": str(summary)},
                  work_dir=work, on_uses=on_uses, play=play,
                  local_actions={MERGE: REPO_ROOT / "matrix" / "merge" / "action.yml"},
                  uses_outputs={"actions/setup-python": {"python-path": sys.executable}})
    return job, summary.read_text(encoding="utf-8")


def test_the_merge_job_pools_the_folds_into_the_report_it_summarises(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.unit.crossval import shards

    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    copy_example(root / "bots" / "coffee")
    assert main(["scaffold", str(root / "bots" / "coffee"), "--folds", "2"]) == 0, \
        capsys.readouterr().err
    first = shards.shard(1, [("greet", "greet"), ("order", "greet")])
    second = shards.shard(2, [("greet", "greet"), ("order", "order")])
    job, summary = run_merge(root, [first, second], tmp_path / "merged")
    assert not job.failed, job.log()
    report = json.loads((root / "bots/coffee/reports/report.json").read_text(encoding="utf-8"))
    assert report["cross_validation"]["folds"] == 2
    assert "Cross-validation" in summary

    # A fold that failed uploads nothing: the merge says which one is missing, the summary
    # (and on a pull request the comment) says the cross-validation could not be merged.
    (root / "bots/coffee/reports/report.json").unlink()
    job, summary = run_merge(root, [first], tmp_path / "missing")
    assert job.failed
    assert "could not be merged" in summary and "missing" in summary
    assert not (root / "bots/coffee/reports/report.json").exists()


# --- a shard job: the shard action gets the matrix value and runs the right command ---------


@pytest.mark.parametrize(("workflow", "command", "shard", "env"), [
    (CV, "cross-validate", "2/5", {"CI_TOOLKIT_SHARD": "2/5", "CI_TOOLKIT_SEED": "0",
                                   "CI_TOOLKIT_CONFIGURATION": "config.yml"}),
    (COMPARE, "compare", "2/6", {"CI_TOOLKIT_COMPARE_SHARD": "2/6", "CI_TOOLKIT_COMPARE_RUNS": "3",
                                 "CI_TOOLKIT_COMPARE_CONFIGS": ".ci-toolkit/compare-configs/"
                                 "base.yml .ci-toolkit/compare-configs/pull-request.yml"}),
])
def test_a_shard_job_installs_the_pinned_rasa_and_runs_its_shard(
        repo: Path, tmp_path: Path, workflow: str, command: str, shard: str,
        env: dict[str, str]) -> None:
    """The shard action with the inputs of the workflow's matrix job 2, step by step: the
    inputs are checked for real, installing is played, and the shard step's command and
    environment are what the CLI reads."""
    steps = yaml.safe_load((repo / workflow).read_text(encoding="utf-8"))["jobs"]["shard"]["steps"]
    step = next(step for step in steps if "/matrix/shard@" in step.get("uses", ""))
    inputs = {name: str(value).replace("${{ matrix.shard }}", "2")
              for name, value in step["with"].items()}
    (tmp_path / "temp").mkdir()
    played: dict[str, dict[str, str]] = {}

    def play(run: CompositeRun, played_step: dict[str, Any], step_id: str) -> bool:
        if step_id != "install" and "ci-toolkit" not in played_step["run"]:
            return False
        played[played_step["name"]] = {
            "run": played_step["run"], "cwd": run.substitute(played_step["working-directory"]),
            **{key: run.substitute(value) for key, value in played_step["env"].items()}}
        outputs = {"rasa": "/venv/bin/rasa"} if step_id == "install" else {}
        run.steps[step_id] = {"outputs": outputs, "outcome": "success"}
        return True

    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(("CI_TOOLKIT_", "GITHUB_"))}
    run = CompositeRun(
        action_file=REPO_ROOT / "matrix" / "shard" / "action.yml", inputs=inputs,
        github={"workspace": str(repo), "token": "",
                "action_path": str(REPO_ROOT / "matrix" / "shard")},
        runner={"os": "Linux", "arch": "X64", "temp": str(tmp_path / "temp")},
        environ=environ, work_dir=tmp_path, play=play,
        uses_outputs={"actions/setup-python": {"python-path": sys.executable}})
    run.run()
    assert not run.failed and run.unexpected_inputs == [], "\n".join(run.log)
    assert run.steps["prepare"]["outputs"]["rasa_version"] == "3.6.21"  # requirements' pin
    install = played.pop("Install rasa and ci-toolkit")
    assert install["CI_TOOLKIT_RASA_VERSION"] == "3.6.21"
    (shard_step,) = played.values()  # only the step of this command
    assert shard_step["run"] == f"ci-toolkit {command}"
    assert shard_step["cwd"] == "bots/coffee"
    assert shard_step["CI_TOOLKIT_RASA"] == "/venv/bin/rasa"
    assert env.items() <= shard_step.items()
    report = run.outputs()["shard_report"]
    assert report == f"bots/coffee/results/{command}/shard-{shard.replace('/', '-of-')}" \
                     "/shard-report.json"
    # The job uploads what the command writes.
    upload = next(step for step in steps if "upload-artifact" in step.get("uses", ""))
    assert upload["with"]["path"].replace("${{ matrix.shard }}", "2") == report


def test_the_comparison_merge_job_writes_the_comparison_section(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.unit.compare import shards

    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    copy_example(root / "bots" / "coffee")
    assert main(["scaffold", str(root / "bots" / "coffee"), "--comparison-runs", "2"]) == 0, \
        capsys.readouterr().err
    reports = [shards.shard(index, [shards.measurement(0, 0.9 if index <= 2 else 0.7)])
               for index in range(1, 5)]
    job, summary = run_merge(root, reports, tmp_path / "merged", workflow=COMPARE)
    assert not job.failed, job.log()
    report = json.loads((root / "bots/coffee/reports/report.json").read_text(encoding="utf-8"))
    assert report["comparison"]["winner"]["config"] == "light"
    assert "light" in summary and "chars" in summary
