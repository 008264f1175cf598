"""`ci-toolkit scaffold` on copies of the example assistant, through the real CLI entry."""

from __future__ import annotations

import importlib
import re
import shutil
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from ci_toolkit.cli import COMMANDS, main
from ci_toolkit.resources import shipped_path
from ci_toolkit.scaffold.files import CONFLICT, CREATE, OVERWRITE, PlannedFile, apply
from tests.unit.scaffold.disk import snapshot

WORKFLOWS = (".github/workflows/assistant-ci.yml", ".github/workflows/assistant-cd.yml",
             ".github/workflows/assistant-cross-validation.yml")
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


@pytest.mark.parametrize(("requirements", "args", "note", "installed"), [
    ("rasa[spacy]==3.6.20\nrasa-sdk==3.6.2\n", [],
     "rasa 3.6.20, as the project's requirements pin it", "3.6.20"),
    (None, ["--rasa-version", "3.6.19-full"], "Docker image tag", "3.6.19"),
    ("", [], "no requirements*.txt in the project pins rasa", "3.6.21"),
], ids=["pinned-by-requirements", "docker-tag-given", "no-requirements"])
def test_the_rasa_version_the_workflows_install(
        bot: Path, capsys: pytest.CaptureFixture[str], requirements: str | None,
        args: list[str], note: str, installed: str) -> None:
    """From the requirements, else the default; a docker tag is turned into the release."""
    if requirements:
        (bot / "requirements.txt").write_text(requirements, encoding="utf-8")
    elif requirements == "":
        (bot / "requirements.txt").unlink()
    code, _, err = scaffold(capsys, str(bot), *args)
    assert code == 0, err
    assert note in err
    assert f'"rasa=={installed}"' in (bot / WORKFLOWS[0]).read_text(encoding="utf-8")


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
        for event in ("push", "pull_request"):
            if event in triggers:
                assert triggers[event]["paths"], f"{name}: {event} has no paths filter"
        for job_name, job in workflow["jobs"].items():
            assert "permissions" in job, f"{name}: job {job_name} inherits permissions"
            assert "write-all" not in str(job["permissions"])
            for step in job["steps"]:
                assert "${{" not in step.get("run", ""), f"{name}: {step['name']}"
                if "actions/checkout" in step.get("uses", ""):
                    assert step["with"]["persist-credentials"] is False


def _command_env_vars(words: list[str]) -> set[str]:
    module_name, attribute, _ = COMMANDS[words[0]]
    module = importlib.import_module(module_name)
    command = getattr(module, attribute)
    for word in words[1:]:
        command = command.commands[word]
    names = set(getattr(module, "ENV_VARS_READ", ()))
    for parameter in command.params:
        if isinstance(parameter.envvar, str):
            names.add(parameter.envvar)
    return names


@pytest.mark.parametrize("target", ["none", "rasa-x", "rasa-server"])
@pytest.mark.parametrize("chart", ["none", "assistant-ci", "rasa-x", "rasa"])
def test_the_workflows_set_only_env_vars_the_commands_read(
        bot: Path, capsys: pytest.CaptureFixture[str], target: str, chart: str) -> None:
    code, _, err = scaffold(capsys, str(bot), "--deploy-target", target, "--chart-preset", chart,
                            "--registry", "registry.example.com")
    assert code == 0, err
    for name in WORKFLOWS:
        for job in load(bot, name)["jobs"].values():
            for step in job["steps"]:
                words = step.get("run", "").split()
                if words[:1] != ["ci-toolkit"]:
                    continue
                read = _command_env_vars(words[1:])
                for variable in step.get("env", {}):
                    if variable.startswith("CI_TOOLKIT_"):
                        assert variable in read, f"{name}: `{step['run']}` ignores {variable}"


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
    env = deploy["steps"][-1]["env"]
    assert env["CI_TOOLKIT_MODEL_TARGET"] == "rasa-x"
    assert env["CI_TOOLKIT_RASAX_TOKEN"] == "${{ secrets.RASAX_TOKEN }}"
    assert env["CI_TOOLKIT_HELM_CHART"] == "rasa-x/rasa-x"
    assert env["CI_TOOLKIT_HELM_IMAGE_KEYS"] == "rasa-x"
    assert env["CI_TOOLKIT_HELM_NAMESPACE"] == "bots"
    assert env["CI_TOOLKIT_DEPLOY_IMAGE_TAG"] == (
        "${{ needs.action-server.outputs.docker_image_tag }}")
    assert env["CI_TOOLKIT_SMOKE_TESTS"] == "tests/smoke.yml"  # the example has one
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
    assert "CI_TOOLKIT_HELM_CHART" not in deploy["steps"][-1]["env"]  # the bundled chart
    assert "CI_TOOLKIT_MODEL_TARGET" not in deploy["steps"][-1]["env"]


def test_no_deploy_job_without_a_target_and_no_image_without_actions(
        bot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for path in sorted((bot / "actions").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (bot / "actions").rmdir()
    code, _, err = scaffold(capsys, str(bot), "--no-schedule")
    assert code == 0, err
    assert set(statuses(err)) == set(WORKFLOWS[:2])  # no Dockerfile, no cross-validation
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
    key = next(s for s in ci["jobs"]["assistant"]["steps"] if "cache@" in s.get("uses", ""))
    assert "hashFiles('bots/coffee/config.yml', 'bots/coffee/domain.yml', 'bots/coffee/data/**')" \
        in key["with"]["key"]


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
