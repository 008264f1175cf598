"""The workflows scaffold writes, fed to this repository's action.yml as GitHub would run it
(tests/integration/composite_runner.py), up to the install step: no rasa needed.

- a pull request that bumps rasa in requirements.txt installs the new rasa (the pin is read
  at run time, not frozen into the workflow);
- the main-branch run saves the stage cache (cross-validation included) under the key that a
  tests-only pull request restores, and restores nothing itself.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ci_toolkit.cli import main
from ci_toolkit.scaffold.options import DEFAULT_ACTION_REPO
from tests.integration.composite_runner import CompositeRun
from tests.rasa_support import copy_example

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
