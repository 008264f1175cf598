"""`ci-toolkit compare`: every bad input is refused with a message that says how to fix it,
before rasa starts (ci_toolkit/compare/request.py, ci_toolkit/commands/compare.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ci_toolkit.commands.compare import compare, spread_values
from ci_toolkit.errors import UsageError
from tests.rasa_support import copy_example

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = copy_example(tmp_path / "coffeebot")
    for name in ("light.yml", "chars.yml"):
        shutil.copy(FIXTURES / "nlu" / name, root / name)
    return root


def _refused(project: Path, *args: str) -> str:
    done: Result = CliRunner().invoke(compare, [str(project), *args, "--rasa", "/no/rasa"])
    assert isinstance(done.exception, UsageError), done.output
    assert not (project / "results").exists()  # nothing ran
    return done.exception.message


def test_values_follow_their_option_as_in_rasa() -> None:
    assert spread_values(["p", "--config", "a.yml", "b.yml", "-p", "0", "50", "--runs", "2"]) \
        == ["p", "--config", "a.yml", "--config", "b.yml", "-p", "0", "--percentages", "50",
            "--runs", "2"]
    assert spread_values(["--percentages", "0", "-5"]) == [
        "--percentages", "0", "--percentages", "-5"]
    assert spread_values(["--config=a.yml", "b.yml", "--", "-c"]) == [
        "--config=a.yml", "--config", "b.yml", "--", "-c"]


@pytest.mark.parametrize("configs, says", [
    ([], "needs two or more configurations, but none was given"),
    (["light.yml"], "needs two or more configurations, but only light.yml was given"),
])
def test_fewer_than_two_configs(project: Path, configs: list[str], says: str) -> None:
    args = ["--config", *configs] if configs else []
    assert says in _refused(project, *args)


def test_a_config_that_does_not_exist(project: Path) -> None:
    message = _refused(project, "--config", "light.yml", "nope.yml")
    assert "The model configuration" in message and "nope.yml does not exist" in message


def test_a_config_that_is_not_valid_yaml(project: Path) -> None:
    (project / "bad.yml").write_text("pipeline:\n  - name: [unclosed\n")
    message = _refused(project, "--config", "light.yml", "bad.yml")
    assert "bad.yml:" in message and "is not valid YAML" in message


def test_a_config_of_the_wrong_shape(project: Path) -> None:
    # rasa would skip it with a warning and compare the rest.
    (project / "flat.yml").write_text("pipeline: WhitespaceTokenizer\n")
    assert "pipeline" in _refused(project, "--config", "light.yml", "flat.yml")


def test_the_same_config_twice(project: Path) -> None:
    assert "light.yml is given twice" in _refused(
        project, "--config", "light.yml", str(project / "light.yml"))


def test_two_configs_with_the_same_name(project: Path) -> None:
    (project / "other").mkdir()
    shutil.copy(project / "chars.yml", project / "other" / "light.yml")
    message = _refused(project, "--config", "light.yml", "other/light.yml")
    assert "same file name without extension ('light')" in message
    assert "Rename one of them" in message


@pytest.mark.parametrize("percentages, says", [
    (["100"], "--percentages 100 is outside 0..99"),
    (["-5"], "--percentages -5 is outside 0..99"),
    (["0", "50", "0"], "--percentages lists 0 more than once"),
])
def test_bad_percentages(project: Path, percentages: list[str], says: str) -> None:
    assert says in _refused(project, "--config", "light.yml", "chars.yml", "--percentages",
                            *percentages)


@pytest.mark.parametrize("runs", ["0", "-1"])
def test_runs_below_one(project: Path, runs: str) -> None:
    assert f"--runs {runs} must be 1 or more" in _refused(
        project, "--config", "light.yml", "chars.yml", "--runs", runs)


def test_a_core_comparison_needs_test_stories(project: Path) -> None:
    shutil.rmtree(project / "tests")
    assert "test stories" in _refused(project, "--kind", "core", "--config", "light.yml",
                                      "chars.yml")


def test_a_result_dir_that_holds_the_project_is_refused(project: Path) -> None:
    # A comparison empties RESULT_DIR/rasa and RESULT_DIR/models first.
    (project / "rasa").mkdir()
    shutil.move(project / "light.yml", project / "rasa" / "light.yml")
    message = _refused(project, "--config", "rasa/light.yml", "chars.yml", "--result-dir",
                       str(project))
    assert "holds the project's own files" in message
    assert (project / "rasa" / "light.yml").is_file()


def test_more_than_one_data_path(project: Path) -> None:
    # rasa's comparison modes take one --nlu / --stories path.
    assert "takes a single data path, but 2 were given" in _refused(
        project, "--config", "light.yml", "chars.yml", "--data", "data", "--data",
        "data/nlu.yml")
