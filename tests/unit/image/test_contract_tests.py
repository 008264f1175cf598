"""`image build --contract-tests` and the action-server action's `contract_tests` input: the
option, the env var the input sets, the outputs, and the container kept running for them."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
import pytest
import yaml

from ci_toolkit.cli import main
from ci_toolkit.commands import image as image_command
from tests import paths
from tests.unit.image.test_container_check import FakeContainer, FakeSession, check

ACTION = paths.REPO_ROOT / "action-server" / "action.yml"


def _option(name: str) -> click.Option:
    command = image_command.image.commands["build"]
    return next(p for p in command.params if isinstance(p, click.Option) and p.name == name)


def test_the_input_reaches_the_option_through_its_env_var() -> None:
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert action["inputs"]["contract_tests"]["default"] == "false"
    step = next(step for step in action["runs"]["steps"] if step.get("id") == "image")
    assert step["env"]["CI_TOOLKIT_CONTRACT_TESTS"] == "${{ inputs.contract_tests }}"
    assert step["env"]["CI_TOOLKIT_ACTIONS_RESULTS_DIR"] == "${{ inputs.actions_results_dir }}"
    assert _option("contract_tests").envvar == "CI_TOOLKIT_CONTRACT_TESTS"
    assert _option("contract_tests").default is False
    assert _option("results_dir").envvar == "CI_TOOLKIT_ACTIONS_RESULTS_DIR"
    assert "--actions-results-dir" in _option("results_dir").opts
    for output in ("contract_tests", "actions_results"):
        assert action["outputs"][output]["value"] == f"${{{{ steps.image.outputs.{output} }}}}"


def test_a_bad_case_file_stops_before_the_engine_is_asked(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    project = tmp_path / "bot"
    shutil.copytree(paths.EXAMPLE, project, ignore=shutil.ignore_patterns(
        "models", "results", "reports", ".rasa"))
    cases = project / "tests" / "actions"
    cases.mkdir(parents=True, exist_ok=True)
    (cases / "broken.yml").write_text("cases:\n  - action: action_nope\n    expect: {events: []}\n",
                                      encoding="utf-8")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.setenv("CI_TOOLKIT_CONTRACT_TESTS", "true")
    code = main(["image", "build", "--context", str(project), "--tag", "dev"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "broken.yml" in err and "action_nope" in err
    assert "Docker engine" not in err  # the engine was never asked
    monkeypatch.setenv("CI_TOOLKIT_CONTRACT_TESTS", "false")
    code = main(["image", "build", "--context", str(project), "--tag", "dev"])
    assert code == 1 and "Cannot reach the Docker engine" in capsys.readouterr().err


def test_the_cases_are_checked_against_the_images_domain(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    project = tmp_path / "bot"
    shutil.copytree(paths.EXAMPLE, project, ignore=shutil.ignore_patterns(
        "models", "results", "reports", ".rasa"))
    # The smoke test's --domain is the contract tests' too: a domain without the example's
    # actions makes the team's cases name actions it does not have.
    (project / "other-domain.yml").write_text("version: '3.1'\nactions:\n  - utter_hi\n",
                                              encoding="utf-8")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.setenv("CI_TOOLKIT_CONTRACT_TESTS", "true")
    code = main(["image", "build", "--context", str(project), "--tag", "dev",
                 "--domain", "other-domain.yml"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "is not a custom action" in err and "Docker engine" not in err
    code = main(["image", "build", "--context", str(project), "--tag", "dev"])
    assert code == 1 and "Cannot reach the Docker engine" in capsys.readouterr().err


def test_the_container_runs_while_it_is_tested_and_is_removed_after() -> None:
    container = FakeContainer()
    seen: list[tuple[str, str, bool]] = []

    def tested(base_url: str, log: object) -> None:
        seen.append((base_url, log(), container.removed))  # type: ignore[operator]

    client, _, result = check(container, FakeSession(True, ["action_a"]), ("action_a",),
                              while_running=tested)
    [(base_url, log, removed_then)] = seen
    port = client.run_with["environment"]["ACTION_SERVER_PORT"]
    assert base_url == result.base_url == f"http://127.0.0.1:{port}"
    assert "Traceback" in log and not removed_then and container.removed


def test_a_failing_hook_still_removes_the_container() -> None:
    container = FakeContainer()

    def explode(base_url: str, log: object) -> None:
        raise RuntimeError("contract tests crashed")

    with pytest.raises(RuntimeError):
        check(container, FakeSession(True, []), (), while_running=explode)
    assert container.removed
