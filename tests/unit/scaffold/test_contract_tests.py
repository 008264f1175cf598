"""The scaffolded workflows run the action contract tests: in CI from actions/ with the gate
on, in CD against the built image before the push; a project without actions/ gets none."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.unit.scaffold.test_render import WORKFLOWS, load, scaffold

CI, CD = WORKFLOWS[0], WORKFLOWS[1]


def _step(workflow: dict[str, Any], job: str, step_id: str) -> dict[str, Any]:
    return next(step for step in workflow["jobs"][job]["steps"] if step.get("id") == step_id)


def test_ci_runs_the_contract_tests_with_the_gate_on(
        bot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = scaffold(capsys, str(bot))
    assert code == 0, err
    workflow = load(bot, CI)
    inputs = _step(workflow, "assistant", "pipeline")["with"]
    assert (inputs["action_tests"], inputs["fail_on_action_errors"]) == ("true", "true")
    assert "actions/**" in workflow[True]["pull_request"]["paths"]
    text = (bot / CI).read_text(encoding="utf-8")
    assert "contract-test the custom actions" in text


def test_cd_contract_tests_the_image_before_it_is_pushed(
        bot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = scaffold(capsys, str(bot))
    assert code == 0, err
    workflow = load(bot, CD)
    image = _step(workflow, "action-server", "image")["with"]
    assert image["contract_tests"] == "true" and image["docker_registry_push"] == "true"
    upload = next(step for step in workflow["jobs"]["action-server"]["steps"]
                  if step["name"] == "Upload the contract test results")
    assert upload["with"]["path"] == "results/actions"
    assert upload["if"] == "${{ !cancelled() }}"


def test_a_project_without_actions_gets_no_contract_tests(
        bot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.rmtree(bot / "actions")
    code, _, err = scaffold(capsys, str(bot))
    assert code == 0, err
    inputs = _step(load(bot, CI), "assistant", "pipeline")["with"]
    assert "action_tests" not in inputs and "fail_on_action_errors" not in inputs
    assert "contract" not in (bot / CI).read_text(encoding="utf-8")
    assert "action-server" not in load(bot, CD)["jobs"]
