"""Bad input gets one clear line and exit code 2 (or 1), never a traceback. None of these
cases reaches rasa, so they need no rasa runtime."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_toolkit.cli import main
from tests.rasa_support import copy_example


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "bot")


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["run", *args])
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "Traceback" not in output
    return code, output


def test_a_directory_that_is_not_a_rasa_project(tmp_path: Path, capsys) -> None:
    code, output = _run(capsys, str(tmp_path), "--rasa", "/bin/true")
    assert code == 2
    assert "is not a Rasa project" in output
    assert len([line for line in output.splitlines() if line.startswith("error:")]) == 1


def test_a_path_that_does_not_exist(tmp_path: Path, capsys) -> None:
    code, output = _run(capsys, str(tmp_path / "nowhere"))
    assert code == 2
    assert "is not a directory" in output


@pytest.mark.parametrize("relative, what", [
    ("config.yml", "model configuration"),
    ("domain.yml", "domain file"),
    ("data/nlu.yml", "training data file"),
    ("tests/test_stories.yml", "test stories file"),
])
def test_malformed_yaml_names_file_and_line(project: Path, capsys, relative: str, what: str) -> None:
    path = project / relative
    lines = path.read_text().splitlines()
    lines.insert(3, "  broken: [unclosed")
    path.write_text("\n".join(lines) + "\n")
    code, output = _run(capsys, str(project), "--rasa", "/bin/true")
    assert code == 2
    assert what in output
    assert f"{relative}:" in output
    assert "is not valid YAML" in output


@pytest.mark.parametrize("option, value, message", [
    ("--train-type", "everything", "Invalid value for '--train-type'"),
    ("--test-type", "e2e", "Invalid value for '--test-type'"),
    ("--folds", "1", "at least 2 folds"),
])
def test_invalid_option_values(project: Path, capsys, option: str, value: str, message: str) -> None:
    code, output = _run(capsys, str(project), option, value)
    assert code == 2
    assert message in output


def test_a_rasa_executable_that_does_not_exist(project: Path, capsys) -> None:
    code, output = _run(capsys, str(project), "--rasa", "/opt/nowhere/bin/rasa")
    assert code == 1
    assert "/opt/nowhere/bin/rasa" in output
    assert "CI_TOOLKIT_RASA" in output


def test_missing_domain(project: Path, capsys) -> None:
    (project / "domain.yml").unlink()
    code, output = _run(capsys, str(project), "--rasa", "/bin/true")
    assert code == 2
    assert "domain" in output and "does not exist" in output


def test_a_given_model_that_does_not_exist(project: Path, capsys) -> None:
    code, output = _run(capsys, str(project), "--rasa", "/bin/true", "--model", "models/none.tar.gz")
    assert code == 2
    assert "models/none.tar.gz does not exist" in output
