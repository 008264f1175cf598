"""`ci-toolkit scaffold` on copies of the example assistant, through the real CLI entry."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from ci_toolkit.cli import COMMANDS, main
from ci_toolkit.resources import shipped_path
from ci_toolkit.scaffold.context import PINNED_ACTIONS
from ci_toolkit.scaffold.files import CONFLICT, CREATE, OVERWRITE, PlannedFile, apply
from ci_toolkit.scaffold.options import DEFAULT_ACTION_REF, DEFAULT_ACTION_REPO
from tests.unit.scaffold.disk import snapshot

WORKFLOWS = (".github/workflows/assistant-ci.yml", ".github/workflows/assistant-cd.yml",
             ".github/workflows/assistant-cross-validation.yml",
             ".github/workflows/assistant-config-comparison.yml")
WRITTEN = (*WORKFLOWS, "Dockerfile", ".dockerignore")


def scaffold(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["scaffold", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def statuses(stderr: str) -> dict[str, str]:
    found = {}
    for line in stderr.splitlines():
        match = re.match(r"^\s*(create|identical|conflict|skip|overwrite)  (\S+)$", line)
        if match:
            found[match.group(2)] = match.group(1)
    return found



def load(root: Path, name: str) -> dict[str, Any]:
    return yaml.safe_load((root / name).read_text(encoding="utf-8"))


# --- the round trip the issue describes ---------------------------------------------------


def test_create_then_identical_then_conflict_then_force(bot: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = scaffold(capsys, str(bot))
    assert code == 0, err
    assert statuses(err) == dict.fromkeys(WRITTEN, "create")
    assert (bot / "Dockerfile").read_bytes() == (shipped_path("docker") / "Dockerfile").read_bytes()
    assert not (bot / "deploy").exists()  # no chart preset: no values file
    first = snapshot(bot)

    code, out, err = scaffold(capsys, str(bot))
    assert code == 0, err
    assert statuses(err) == dict.fromkeys(WRITTEN, "identical")
    assert snapshot(bot) == first  # running twice changes nothing
    assert out == ""

    workflow = bot / WORKFLOWS[0]
    edited = workflow.read_text(encoding="utf-8").replace(
        "timeout-minutes: 90", "timeout-minutes: 30  # our runners are fast")
    workflow.write_text(edited, encoding="utf-8")
    code, out, err = scaffold(capsys, str(bot))
    assert code == 1
    assert statuses(err)[WORKFLOWS[0]] == CONFLICT
    assert workflow.read_text(encoding="utf-8") == edited  # untouched without --force
    assert "-    timeout-minutes: 30  # our runners are fast" in out  # the diff is shown
    assert "+    timeout-minutes: 90" in out
    assert "--force" in err and WORKFLOWS[0] in err

    code, _, err = scaffold(capsys, str(bot), "--force")
    assert code == 0, err
    assert statuses(err)[WORKFLOWS[0]] == OVERWRITE
    assert snapshot(bot) == first


def test_dry_run_writes_nothing_and_shows_the_diff_of_a_conflict(
        bot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(bot)
    code, out, err = scaffold(capsys, str(bot), "--dry-run")
    assert code == 0, err
    assert statuses(err) == dict.fromkeys(WRITTEN, "create")
    assert snapshot(bot) == before
    assert "nothing was written" in err

    (bot / "Dockerfile").write_text("FROM my-own-base\n", encoding="utf-8")
    before = snapshot(bot)
    code, out, err = scaffold(capsys, str(bot), "--dry-run", "--force")
    assert code == 0, err
    assert statuses(err)["Dockerfile"] == OVERWRITE
    assert "-FROM my-own-base" in out
    assert snapshot(bot) == before


def test_skip_leaves_matching_files_alone(bot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = scaffold(capsys, str(bot), "--skip", "Dockerfile", "--skip", "*-cd.yml")
    assert code == 0, err
    found = statuses(err)
    assert found["Dockerfile"] == found[WORKFLOWS[1]] == "skip"
    assert not (bot / "Dockerfile").exists() and not (bot / WORKFLOWS[1]).exists()


def test_a_directory_that_is_not_a_rasa_project_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "README.md").write_text("not an assistant\n", encoding="utf-8")
    code, _, err = scaffold(capsys, str(tmp_path))
    assert code == 2
    assert "is not a Rasa project" in err
    assert list(tmp_path.iterdir()) == [tmp_path / "README.md"]


def test_a_missing_directory_is_a_usage_error(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = scaffold(capsys, str(tmp_path / "nowhere"))
    assert code == 2 and "not a directory" in err


# --- what gets rendered --------------------------------------------------------------------


def _pipeline_inputs(workflow: dict[str, Any], job: str) -> dict[str, Any]:
    """The inputs of the job's pipeline action, or of its shard action in a matrix workflow."""
    step = next(step for step in workflow["jobs"][job]["steps"]
                if step.get("id") == "pipeline" or "/matrix/shard@" in step.get("uses", ""))
    return step["with"]


# (requirements.txt or None for none, args, note, rasa_version input or None when the
# requirements' pin is read at run time)
@pytest.mark.parametrize(("requirements", "args", "note", "rasa_version"), [
    ("rasa[spacy]==3.6.20\nrasa-sdk==3.6.2\n", [],
     "rasa 3.6.20, as the project's requirements pin it", None),
    ("rasa==3.6.20\n", ["--rasa-version", "3.6.20"], "", "3.6.20"),
    ("spacy==3.4.4\n", [], "no requirements*.txt in the project pins rasa", "3.6.21"),
    (None, ["--rasa-version", "3.6.19-full"], "Docker image tag", "3.6.19"),
    (None, [], "no requirements*.txt in the project pins rasa", "3.6.21"),
], ids=["pinned-by-requirements", "given-and-pinned-alike", "requirements-without-pin",
        "docker-tag-given", "no-requirements"])
def test_the_rasa_version_the_workflows_install(
        bot: Path, capsys: pytest.CaptureFixture[str], requirements: str | None,
        args: list[str], note: str, rasa_version: str | None) -> None:
    """The requirements' pin is read at run time (a bump is tested), else a pinned release."""
    if requirements is None:
        (bot / "requirements.txt").unlink()
    else:
        (bot / "requirements.txt").write_text(requirements, encoding="utf-8")
    code, _, err = scaffold(capsys, str(bot), *args)
    assert code == 0, err
    assert note in err
    for name, job in ((WORKFLOWS[0], "assistant"), (WORKFLOWS[1], "model"),
                      (WORKFLOWS[2], "shard"), (WORKFLOWS[3], "shard")):
        inputs = _pipeline_inputs(load(bot, name), job)
        assert inputs.get("rasa_version") == rasa_version, name
        assert inputs.get("rasa_requirements") == (
            "requirements.txt" if requirements is not None else None), name
    text = (bot / WORKFLOWS[0]).read_text(encoding="utf-8")
    assert ("# rasa_requirements: \"requirements.txt\"" in text) is (requirements is None)


def test_a_rasa_version_the_requirements_pin_differently_is_refused(
        bot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = scaffold(capsys, str(bot), "--rasa-version", "3.6.20")
    assert code == 2
    assert "--rasa-version: rasa_version is 3.6.20 but" in err and "pins rasa==3.6.21" in err
    assert not (bot / ".github").exists()


def test_every_workflow_has_least_privilege_concurrency_and_paths(
        bot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = scaffold(capsys, str(bot), "--deploy-target", "rasa-x",
                            "--chart-preset", "rasa-x")
    assert code == 0, err
    for name in WORKFLOWS:
        workflow = load(bot, name)
        triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
        assert workflow["permissions"] == {}, name
        assert workflow["concurrency"]["group"].startswith("${{ github.workflow }}"), name
        # A matrix workflow's decide job watches the paths (a label may start it too).
        decide = [step["with"]["paths"] for step in workflow["jobs"].get("decide", {
            "steps": []})["steps"] if "/matrix/decide@" in step.get("uses", "")]
        for event in ("push", "pull_request"):
            if event in triggers:
                assert decide or triggers[event]["paths"], f"{name}: {event} has no paths filter"
        for job_name, job in workflow["jobs"].items():
            assert "permissions" in job, f"{name}: job {job_name} inherits permissions"
            assert "write-all" not in str(job["permissions"])
            for step in job["steps"]:
                assert "${{" not in step.get("run", ""), f"{name}: {step['name']}"
                if "actions/checkout" in step.get("uses", ""):
                    assert step["with"]["persist-credentials"] is False


ACTION_FILES = {"": "action.yml", "/action-server": "action-server/action.yml",
                "/deploy": "deploy/action.yml", "/matrix/decide": "matrix/decide/action.yml",
                "/matrix/shard": "matrix/shard/action.yml",
                "/matrix/merge": "matrix/merge/action.yml"}
REPO_ROOT = Path(__file__).resolve().parents[3]


def _own_action_inputs(uses: str) -> set[str] | None:
    """The inputs of this repository's action that ``uses`` names, None for another action."""
    head = uses.split("@", 1)[0]
    for suffix, path in ACTION_FILES.items():
        if head == DEFAULT_ACTION_REPO + suffix:
            action = yaml.safe_load((REPO_ROOT / path).read_text(encoding="utf-8"))
            return set(action["inputs"])
    return None


@pytest.mark.parametrize("target", ["none", "rasa-x", "rasa-server"])
@pytest.mark.parametrize("chart", ["none", "assistant-ci", "rasa-x", "rasa"])
def test_the_workflows_use_our_actions_with_inputs_they_declare_and_install_nothing(
        bot: Path, capsys: pytest.CaptureFixture[str], target: str, chart: str) -> None:
    """Nothing is installed by a package name: every step is a pinned action, and each input
    given to one of this repository's actions is one its action.yml declares."""
    code, _, err = scaffold(capsys, str(bot), "--deploy-target", target, "--chart-preset", chart,
                            "--registry", "registry.example.com")
    assert code == 0, err
    pinned = set(PINNED_ACTIONS.values())
    own = 0
    for name in WORKFLOWS:
        for job in load(bot, name)["jobs"].values():
            for step in job["steps"]:
                assert "pip" not in step.get("run", "").split(), f"{name}: {step['name']}"
                uses = step.get("uses")
                if uses is None:
                    continue
                declared = _own_action_inputs(uses)
                if declared is None:
                    assert any(uses == ref.split(" #")[0] for ref in pinned), uses
                    continue
                own += 1
                assert uses.endswith("@" + DEFAULT_ACTION_REF), uses
                assert set(step.get("with", {})) <= declared, f"{name}: {uses}"
    assert own >= 3 + 2 * 3  # the pipeline, and decide, shard and merge in both matrices


def test_deploying_to_rasa_x_with_the_rasa_x_chart(bot: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = scaffold(capsys, str(bot), "--deploy-target", "rasa-x", "--chart-preset",
                            "rasa-x", "--namespace", "bots")
    assert code == 0, err
    assert statuses(err)["deploy/values.yml"] == CREATE
    cd = load(bot, WORKFLOWS[1])
    deploy = cd["jobs"]["deploy"]
    assert deploy["needs"] == ["model", "action-server"]
    assert deploy["environment"] == "production"
    assert deploy["steps"][-1]["env"] == {"KUBECONFIG": "${{ runner.temp }}/kubeconfig"}
    inputs = deploy["steps"][-1]["with"]
    assert inputs["model_target"] == "rasa-x"
    assert inputs["rasax_token"] == "${{ secrets.RASAX_TOKEN }}"
    assert inputs["helm_chart"] == "rasa-x/rasa-x"
    assert inputs["helm_image_keys"] == "rasa-x"
    assert inputs["helm_namespace"] == "bots"
    assert inputs["docker_image_tag"] == "${{ needs.action-server.outputs.docker_image_tag }}"
    assert inputs["smoke_tests"] == "tests/smoke.yml"  # the example has one
    runs = [step.get("run", "") for step in deploy["steps"]]
    assert "helm repo add rasa-x https://rasahq.github.io/rasa-x-helm" in runs
    values = load(bot, "deploy/values.yml")
    assert set(values["app"]) == {"name", "tag"}


def test_the_assistant_ci_chart_values_use_its_image_keys(
        bot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = scaffold(capsys, str(bot), "--chart-preset", "assistant-ci",
                            "--image-name", "team/coffee-actions")
    assert code == 0, err
    values = load(bot, "deploy/values.yml")
    assert values["actionServer"]["image"]["repository"] == "ghcr.io/team/coffee-actions"
    deploy = load(bot, WORKFLOWS[1])["jobs"]["deploy"]
    assert "helm_chart" not in deploy["steps"][-1]["with"]  # the bundled chart
    assert "model_target" not in deploy["steps"][-1]["with"]


def test_no_deploy_job_without_a_target_and_no_image_without_actions(
        bot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for path in sorted((bot / "actions").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (bot / "actions").rmdir()
    code, _, err = scaffold(capsys, str(bot), "--no-schedule", "--no-config-comparison")
    assert code == 0, err
    assert set(statuses(err)) == set(WORKFLOWS[:2])  # no Dockerfile, no matrix workflows
    assert set(load(bot, WORKFLOWS[1])["jobs"]) == {"model"}


def test_an_assistant_in_a_subdirectory_of_a_repository(
        pristine: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    project = Path(shutil.copytree(pristine, repo / "bots" / "coffee"))
    code, _, err = scaffold(capsys, str(project))
    assert code == 0, err
    assert set(statuses(err)) == {*WORKFLOWS, "bots/coffee/Dockerfile", "bots/coffee/.dockerignore"}
    ci = load(repo, WORKFLOWS[0])
    assert ci["jobs"]["assistant"]["defaults"]["run"]["working-directory"] == "bots/coffee"
    assert "bots/coffee/data/**" in ci[True]["pull_request"]["paths"]
    assert "bots/coffee/results" in ci["jobs"]["assistant"]["steps"][-1]["with"]["path"]
    # The actions take paths relative to the workspace, the assistant's directory.
    inputs = _pipeline_inputs(ci, "assistant")
    assert (inputs["workspace"], inputs["configuration"], inputs["data"]) == (
        "bots/coffee", "config.yml", "data")
    cd = load(repo, WORKFLOWS[1])
    image = next(step for step in cd["jobs"]["action-server"]["steps"] if step.get("id") == "image")
    assert image["with"]["workspace"] == "bots/coffee"


def test_the_command_is_registered_with_its_docstring() -> None:
    from ci_toolkit.commands.scaffold import scaffold as command

    assert isinstance(command, click.Command)
    assert command.help.splitlines()[0] == COMMANDS["scaffold"][2]
    for parameter in command.params:
        assert parameter.envvar and str(parameter.envvar).startswith("CI_TOOLKIT_"), parameter.name


# --- the file engine -----------------------------------------------------------------------


def test_a_yes_at_the_terminal_overwrites_and_a_no_keeps_the_file(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("mine\n", encoding="utf-8")
    (tmp_path / "b.yml").write_text("mine\n", encoding="utf-8")
    planned = [PlannedFile(Path(name), b"theirs\n", "t") for name in ("a.yml", "b.yml")]
    asked: list[str] = []

    def confirm(file: PlannedFile, diff: str) -> bool:
        asked.append(diff)
        return file.path.name == "a.yml"

    outcomes = apply(planned, tmp_path, confirm_overwrite=confirm)
    assert [o.status for o in outcomes] == [OVERWRITE, CONFLICT]
    assert (tmp_path / "a.yml").read_text(encoding="utf-8") == "theirs\n"
    assert (tmp_path / "b.yml").read_text(encoding="utf-8") == "mine\n"
    assert all("-mine" in diff and "+theirs" in diff for diff in asked)


def test_a_template_with_an_undefined_variable_fails_loudly(tmp_path: Path) -> None:
    from ci_toolkit.scaffold.render import _environment, _render

    (tmp_path / "t.yml.j2").write_text("name: << not_defined >>\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="not_defined"):
        _render(_environment(tmp_path), "t.yml.j2", {})
