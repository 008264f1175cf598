"""The Python side of the composite actions: input checks, cache keys, the install plan."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ci_toolkit.action_helpers import (
    DEFAULT_RASA_VERSION,
    OUTPUTS,
    install_plan,
    main,
    normalize_rasa_version,
    prepare,
    python_problem,
)
from ci_toolkit.errors import UsageError
from tests.rasa_support import EXAMPLE_DIR

PROJECT_FILES = ("config.yml", "domain.yml", "data", "requirements.txt")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for name in PROJECT_FILES:
        source = EXAMPLE_DIR / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        else:
            shutil.copy2(source, root / name)
    return root


def env_for(workspace: Path, **values: str) -> dict[str, str]:
    return {"GITHUB_WORKSPACE": str(workspace), "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64",
            **values}


# --- rasa_version --------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "release"), [
    ("3.6.21", "3.6.21"), ("  3.6.21 ", "3.6.21"), ("3.6.0rc1", "3.6.0rc1"),
    ("", DEFAULT_RASA_VERSION), (None, DEFAULT_RASA_VERSION),
])
def test_a_release_is_taken_as_it_is(given: str | None, release: str) -> None:
    version = normalize_rasa_version(given)
    assert (version.release, version.notice) == (release, None)


@pytest.mark.parametrize(("given", "release"), [
    ("3.6.21-full", "3.6.21"), ("3.5.17-spacy-en", "3.5.17"), ("v3.6.21", "3.6.21"),
])
def test_a_docker_tag_becomes_its_release_with_a_notice(given: str, release: str) -> None:
    version = normalize_rasa_version(given)
    assert version.release == release
    assert version.notice is not None
    assert given in version.notice and f"rasa=={release}" in version.notice


@pytest.mark.parametrize("given", ["latest", "latest-full", "LATEST", "stable-full"])
def test_a_floating_tag_is_refused_because_pinning_is_the_point(given: str) -> None:
    with pytest.raises(UsageError) as raised:
        normalize_rasa_version(given)
    assert "pinned" in raised.value.message
    assert f"rasa_version: {DEFAULT_RASA_VERSION}" in raised.value.message


@pytest.mark.parametrize(("given", "complaint"), [
    ("2.8.21-full", "rasa 3"), ("banana", "not a rasa release"), ("3.6", "not a rasa release"),
    ("3.6.21; rm -rf /", "not a rasa release"),
])
def test_other_versions_are_refused_clearly(given: str, complaint: str) -> None:
    with pytest.raises(UsageError, match=complaint):
        normalize_rasa_version(given)


# --- prepare -------------------------------------------------------------------------------


def test_prepare_gives_every_output_the_action_reads(workspace: Path) -> None:
    outputs, notices = prepare(env_for(workspace))
    assert set(outputs) == set(OUTPUTS["prepare"])
    assert notices == []
    assert outputs["rasa_version"] == "3.6.21"
    assert outputs["cache_paths"].splitlines() == [str(workspace / ".rasa" / "cache"),
                                                   str(workspace / ".ci-toolkit" / "cache")]
    assert outputs["cache_key"].startswith(outputs["cache_restore_key"])
    assert outputs["pip_cache_key"].startswith(outputs["pip_cache_restore_key"])
    assert "rasa3.6.21" in outputs["cache_restore_key"]


def test_the_stage_cache_key_follows_config_domain_and_data_only(workspace: Path) -> None:
    key = prepare(env_for(workspace))[0]["cache_key"]
    (workspace / "README.md").write_text("docs change\n", encoding="utf-8")
    assert prepare(env_for(workspace))[0]["cache_key"] == key
    nlu = workspace / "data" / "nlu.yml"
    nlu.write_text(nlu.read_text(encoding="utf-8") + "\n# one more line\n", encoding="utf-8")
    changed = prepare(env_for(workspace))[0]["cache_key"]
    assert changed != key
    (workspace / "config.yml").write_text("recipe: default.v1\nlanguage: de\n", encoding="utf-8")
    assert prepare(env_for(workspace))[0]["cache_key"] not in (key, changed)


def test_a_relative_workspace_and_cache_dir_are_under_the_repository(workspace: Path) -> None:
    bot = workspace / "bots" / "coffee"
    shutil.copytree(workspace / "data", bot / "data")
    shutil.copy2(workspace / "config.yml", bot / "config.yml")
    shutil.copy2(workspace / "domain.yml", bot / "domain.yml")
    outputs, _ = prepare(env_for(workspace, CI_TOOLKIT_WORKSPACE="bots/coffee",
                                 CI_TOOLKIT_CACHE_DIR="ci-cache"))
    assert outputs["cache_paths"].splitlines() == [str(bot / ".rasa" / "cache"),
                                                   str(bot / "ci-cache")]
    outputs, _ = prepare(env_for(workspace, CI_TOOLKIT_CACHE_DIR="/var/cache/ci"))
    assert outputs["cache_paths"].splitlines()[1] == "/var/cache/ci"


def test_the_docker_only_rasa_image_input_is_refused(workspace: Path) -> None:
    with pytest.raises(UsageError, match="rasa_requirements"):
        prepare(env_for(workspace, CI_TOOLKIT_RASA_IMAGE="rasa/rasa:3.6.21-full"))


def test_a_missing_requirements_file_is_refused(workspace: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        prepare(env_for(workspace, CI_TOOLKIT_RASA_REQUIREMENTS="extra.txt"))


def test_extra_requirements_change_the_pip_cache_key(workspace: Path) -> None:
    plain = prepare(env_for(workspace))[0]["pip_cache_key"]
    (workspace / "extra.txt").write_text("spacy==3.5.4\n", encoding="utf-8")
    extra = prepare(env_for(workspace, CI_TOOLKIT_RASA_REQUIREMENTS="extra.txt"))[0]
    assert extra["pip_cache_key"] != plain
    assert extra["pip_cache_restore_key"] == prepare(env_for(workspace))[0]["pip_cache_restore_key"]


# --- install -------------------------------------------------------------------------------


def test_the_install_plan_resolves_rasa_extras_and_the_toolkit_together(workspace: Path) -> None:
    (workspace / "extra.txt").write_text("spacy==3.5.4\n", encoding="utf-8")
    environ = env_for(workspace, RUNNER_TEMP=str(workspace / "tmp"),
                      CI_TOOLKIT_RASA_VERSION="3.6.20-full",
                      CI_TOOLKIT_RASA_REQUIREMENTS="extra.txt")
    venv, commands = install_plan(environ, source=Path("/action"), with_rasa=True, python="py")
    assert venv == workspace / "tmp" / "ci-toolkit" / "venv"
    assert commands[0] == ["py", "-m", "venv", str(venv)]
    pip = commands[1]
    assert pip[:4] == [str(venv / "bin" / "python"), "-m", "pip", "install"]
    assert pip[-4:] == ["rasa==3.6.20", "/action", "-r", str(workspace / "extra.txt")]


def test_the_image_and_deploy_actions_install_only_the_toolkit(workspace: Path) -> None:
    environ = env_for(workspace, RUNNER_TEMP=str(workspace / "tmp"))
    venv, commands = install_plan(environ, source=Path("/action"), with_rasa=False, python="py")
    assert venv.name == "venv-toolkit"
    assert not any(word.startswith("rasa") for word in commands[1])
    assert commands[1][-1] == "/action"


def test_the_merge_job_installs_matplotlib_for_the_plot_beside_the_toolkit(workspace: Path
                                                                           ) -> None:
    environ = env_for(workspace, RUNNER_TEMP=str(workspace / "tmp"))
    _, commands = install_plan(environ, source=Path("/action"), with_rasa=False, python="py",
                               with_plotting=True)
    assert commands[1][-2:] == ["/action", "matplotlib"]
    # With rasa, its own matplotlib draws: nothing is added.
    environ = env_for(workspace, RUNNER_TEMP=str(workspace / "tmp"),
                      CI_TOOLKIT_RASA_VERSION="3.6.20-full")
    _, commands = install_plan(environ, source=Path("/action"), with_rasa=True, python="py",
                               with_plotting=True)
    assert "matplotlib" not in commands[1]
    merge = (Path(__file__).resolve().parents[2] / "matrix" / "merge" / "action.yml").read_text()
    assert "install --without-rasa --with-plotting" in merge


# --- the command line the actions run ------------------------------------------------------


def test_main_writes_the_outputs_and_a_notice_in_actions(
        workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "github_output"
    output.touch()
    environ = env_for(workspace, GITHUB_ACTIONS="true", GITHUB_OUTPUT=str(output),
                      CI_TOOLKIT_RASA_VERSION="3.6.21-full")
    assert main(["prepare"], environ) == 0
    written = output.read_text(encoding="utf-8")
    assert "rasa_version=3.6.21\n" in written
    assert "cache_paths<<ghadelimiter_" in written  # two lines: a heredoc
    assert "::notice title=rasa_version::rasa_version '3.6.21-full'" in capsys.readouterr().out


def test_main_turns_a_bad_input_into_an_error_annotation_and_exit_2(
        workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "github_output"
    output.touch()
    environ = env_for(workspace, GITHUB_ACTIONS="true", GITHUB_OUTPUT=str(output),
                      CI_TOOLKIT_RASA_VERSION="latest-full")
    assert main(["prepare"], environ) == 2
    captured = capsys.readouterr()
    assert captured.out.startswith("::error::rasa_version 'latest-full' is not supported")
    assert "error: rasa_version 'latest-full'" in captured.err
    # No half-written outputs: only the error, for the step that says why in the PR comment.
    written = output.read_text(encoding="utf-8")
    assert written.startswith("error=rasa_version 'latest-full' is not supported")
    assert written.count("\n") == 1


# --- which rasa and which Python the action supports (one class: refused at the first step) --

HELPERS_FILE = Path(__file__).resolve().parents[2] / "ci_toolkit" / "action_helpers.py"


@pytest.mark.parametrize(("version_info", "problem"), [
    ((3, 8, 18), "python_version is 3.8"),
    ((3, 9, 0), "python_version is 3.9"),
    ((3, 10, 12), None),
    ((3, 12, 1), None),
])
def test_python_before_3_10_is_refused_naming_the_supported_range(
        version_info: tuple[int, ...], problem: str | None) -> None:
    found = python_problem(version_info)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found
        assert "rasa 3.4 to 3.6" in found and 'python_version: "3.10"' in found


def test_the_helper_parses_on_python_3_8_so_it_can_refuse_it() -> None:
    # The version check runs only if Python 3.8 can read the whole file first.
    ast.parse(HELPERS_FILE.read_text(encoding="utf-8"), feature_version=(3, 8))
    assert "removeprefix" not in HELPERS_FILE.read_text(encoding="utf-8").replace(
        "Not str.removeprefix", "")


def test_on_an_old_python_the_first_step_exits_2_with_an_error_annotation() -> None:
    # Python 3.8 is not installed here: pretend, before the module runs as the action runs it.
    script = ("import runpy, sys; sys.version_info = (3, 8, 18, 'final', 0); "
              "sys.argv = ['action_helpers', 'prepare']; "
              "runpy.run_module('ci_toolkit.action_helpers', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=HELPERS_FILE.parents[1], timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stdout.startswith("::error title=Unsupported Python::python_version is 3.8")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("given", "outcome"), [
    ("3.0.0", "rasa 3.4 to 3.6"), ("3.3.9", "rasa 3.4 to 3.6"), ("v3.2.1-full", "need Python 3.8 or 3.9"),
    ("4.0.0", "rasa 3.4 to 3.6"), ("3.4.0", "3.4.0"), ("3.5.17", "3.5.17"),
])
def test_rasa_releases_outside_3_4_to_3_6_are_refused(given: str, outcome: str) -> None:
    if outcome[0].isdigit():
        assert normalize_rasa_version(given).release == outcome
    else:
        with pytest.raises(UsageError, match=outcome):
            normalize_rasa_version(given)


@pytest.mark.parametrize(("given", "pin", "outcome"), [
    ("", "rasa==3.6.20", "3.6.20"),  # the pin is read at run time: a bump is tested
    ("", "rasa[spacy] == 3.5.17\nspacy==3.4.4", "3.5.17"),
    ("", "spacy==3.4.4", DEFAULT_RASA_VERSION),  # no pin: the default
    ("3.6.20-full", "rasa==3.6.20", "3.6.20"),
    ("3.6.21", "rasa==3.6.20", "pip cannot install both"),
    ("", "rasa==3.2.0", "pins rasa==3.2.0"),
])
def test_the_rasa_pin_of_the_requirements_file_decides_when_rasa_version_is_empty(
        workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        given: str, pin: str, outcome: str) -> None:
    (workspace / "requirements.txt").write_text(pin + "\n", encoding="utf-8")
    output = tmp_path / "github_output"
    output.touch()
    environ = env_for(workspace, GITHUB_ACTIONS="true", GITHUB_OUTPUT=str(output),
                      CI_TOOLKIT_RASA_VERSION=given,
                      CI_TOOLKIT_RASA_REQUIREMENTS="requirements.txt",
                      RUNNER_TEMP=str(tmp_path / "tmp"))
    code = main(["prepare"], environ)
    if outcome[0].isdigit():
        assert code == 0
        assert f"rasa_version={outcome}\n" in output.read_text(encoding="utf-8")
        pip = install_plan(environ, source=Path("/action"), with_rasa=True, python="py")[1][1]
        assert f"rasa=={outcome}" in pip
    else:
        assert code == 2
        assert outcome in capsys.readouterr().out


# (a change, whether the stage cache key follows it)
@pytest.mark.parametrize(("change", "new_key"), [
    ("components/sentiment.py", True),  # the code of a custom component in config.yml
    ("tests/test_stories.yml", False),  # tests do not change the model
    ("unused/helper.py", False),  # a package config.yml does not name
])
def test_the_stage_cache_key_covers_custom_component_code(
        workspace: Path, change: str, new_key: bool) -> None:
    config = workspace / "config.yml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "pipeline:\n", "pipeline:\n  - name: components.sentiment.SentimentAnalyzer\n"),
        encoding="utf-8")
    for name in ("components/sentiment.py", "tests/test_stories.yml", "unused/helper.py"):
        (workspace / name).parent.mkdir(parents=True, exist_ok=True)
        (workspace / name).write_text("# first\n", encoding="utf-8")
    before = prepare(env_for(workspace))[0]["cache_key"]
    (workspace / change).write_text("# changed\n", encoding="utf-8")
    assert (prepare(env_for(workspace))[0]["cache_key"] != before) is new_key
