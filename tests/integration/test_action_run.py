"""The root action.yml, run step by step (tests/integration/composite_runner.py) on a copy of
the example assistant with real rasa: the inputs reach `ci-toolkit run` and `ci-toolkit
summary` through their env vars, and the action's outputs come back through $GITHUB_OUTPUT.

setup-python and actions/cache are GitHub's code and do not run here; the install step is
replaced by the rasa of scripts/setup-rasa.sh and this checkout's ci-toolkit (the real install
step is tested in test_action_install.py).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.integration.composite_runner import CompositeRun
from tests.rasa_support import copy_example, rasa_executable

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _runner(tmp_path: Path, inputs: dict[str, str],
            model: Path | None = None) -> tuple[CompositeRun, Path]:
    workspace = tmp_path / "repo"
    project = copy_example(workspace / "bots" / "coffee")
    shutil.rmtree(project / ".ci-toolkit", ignore_errors=True)
    if model is not None:
        shutil.copy2(model, project / "given-model.tar.gz")
    (tmp_path / "temp").mkdir()
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(("CI_TOOLKIT_", "GITHUB_"))}
    environ["GITHUB_ACTIONS"] = "true"
    environ["GITHUB_STEP_SUMMARY"] = str(tmp_path / "step_summary.md")
    environ["RASA_TELEMETRY_ENABLED"] = "false"
    run = CompositeRun(
        action_file=REPO_ROOT / "action.yml",
        inputs={"workspace": "bots/coffee", "model": "given-model.tar.gz", **inputs},
        github={"workspace": str(workspace), "token": "", "action_path": str(REPO_ROOT)},
        runner={"os": "Linux", "arch": "X64", "temp": str(tmp_path / "temp")},
        environ=environ,
        work_dir=tmp_path,
        uses_outputs={"actions/setup-python": {"python-path": sys.executable}},
    )
    return run, project


@pytest.mark.rasa
def test_the_action_runs_the_pipeline_and_returns_the_rtt_report(tmp_path: Path,
                                                                  example_model: Path) -> None:
    # Non-default inputs, so that the report shows they reached the pipeline (and the core
    # test, which loads the model twice, stays out of this test's time).
    run, project = _runner(tmp_path, {"rasa_version": "3.6.21-full", "test_type": "nlu",
                                      "data_validate_args": "--max-history 5",
                                      "assistant_name": "coffee-from-action"}, example_model)
    install = {"rasa": rasa_executable()}

    def on_uses(target: str, with_values: dict[str, str]) -> None:
        if target == "actions/setup-python":
            assert with_values["python-version"] == "3.10"
            assert with_values["update-environment"] == "false"

    # The install step would pip-install rasa (minutes); use the rasa we have instead.
    original = run._run_script

    def run_script(step: dict, step_id: str) -> None:
        if step_id == "install":
            run.steps[step_id] = {"outputs": install, "outcome": "success"}
            (tmp_path / "github_path").write_text(f"{Path(sys.executable).parent}\n")
            return
        original(step, step_id)

    run._run_script = run_script  # type: ignore[method-assign]
    run.run(on_uses)
    log = "\n".join(run.log)
    assert not run.failed, log[-6000:]
    assert run.steps["prepare"]["outputs"]["rasa_version"] == "3.6.21"
    assert "::notice title=rasa_version::" in log

    outputs = run.outputs()
    assert outputs["verdict"] == "passed"
    assert outputs["rasa_version"] == "3.6.21"
    report = json.loads(outputs["report"])
    assert report["default"]["config.yml"]["intent_classification"]["accuracy"] > 0.5
    assert (project / outputs["report_path"]).is_file()  # relative to the workspace
    assert outputs["model_name"] == "given-model.tar.gz"
    summary = Path(outputs["summary_path"])
    summary = summary if summary.is_absolute() else project / summary
    assert summary.is_file()
    assert "coffee-from-action" in (tmp_path / "step_summary.md").read_text(encoding="utf-8")
    full_report = json.loads((project / "reports" / "report.json").read_text(encoding="utf-8"))
    status = {stage["name"]: stage["status"] for stage in full_report["stages"]}
    assert status == {"validate": "passed", "train": "skipped", "test_core": "skipped",
                      "test_nlu": "passed", "cross_validate": "skipped"}
    assert full_report["assistant"]["name"] == "coffee-from-action"
    assert full_report["run"]["rasa_version"] == "3.6.21"


# Needs no rasa: the action stops before its install step.
def test_a_floating_rasa_version_stops_the_action_before_anything_is_installed(
        tmp_path: Path) -> None:
    run, _ = _runner(tmp_path, {"rasa_version": "latest-full"})
    run.run()
    assert run.failed
    assert run.steps["prepare"]["outcome"] == "failure"
    assert run.steps["install"]["outcome"] == "skipped"
    assert run.steps["run"]["outcome"] == "skipped"
    assert "::error::rasa_version 'latest-full' is not supported" in "\n".join(run.log)
