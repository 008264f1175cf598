"""`ci-toolkit cross-validate --shard` up to rasa: bad input is refused before rasa starts,
and a training that leaves no model fails the shard although rasa exits 0
(ci_toolkit/commands/crossval.py, ci_toolkit/crossval/shard.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ci_toolkit.commands.pipeline import cross_validate
from ci_toolkit.errors import ToolkitError, UsageError
from tests.fakes.fake_rasa import install
from tests.rasa_support import copy_example


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(cross_validate, list(args))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "coffeebot")


@pytest.mark.parametrize("shard, says", [
    ("3/2", "numbered 1 to 2"), ("1/1", "at least 2 folds"), ("half", "form i/N")])
def test_a_bad_shard_is_a_usage_error(project: Path, shard: str, says: str) -> None:
    done = _invoke(str(project), "--shard", shard, "--rasa", "/no/rasa")
    assert isinstance(done.exception, UsageError), done.output
    assert says in done.exception.message


def test_too_many_folds_for_the_data_is_refused_before_rasa(project: Path) -> None:
    done = _invoke(str(project), "--shard", "1/20", "--rasa", "/no/rasa")
    assert isinstance(done.exception, UsageError), done.output
    assert "'faq/wifi' (6)" in done.exception.message
    assert not (project / "results").exists()


def test_a_training_without_a_model_fails_the_shard(project: Path, tmp_path: Path) -> None:
    fake = install(tmp_path / "fake")
    fake.behave({"train nlu": "no-model"})
    done = _invoke(str(project), "--shard", "2/3", "--seed", "5", "--rasa", str(fake.path),
                   "--result-dir", str(tmp_path / "results"))
    results = tmp_path / "results" / "cross-validate" / "shard-2-of-3"
    assert isinstance(done.exception, ToolkitError), done.output
    assert "rasa train nlu on the fold's training data wrote no fold-2.tar.gz" in \
        done.exception.message
    assert (results / "data" / "train.yml").is_file() and (results / "data" / "test.yml").is_file()
    assert not (results / "shard-report.json").exists()
    started = [event for event in fake.events() if "start" in event]
    assert [event["start"] for event in started] == ["train nlu"]
    assert started[0]["rasa_cache_size"] == "0"  # each fold's components are new to rasa


@pytest.mark.parametrize("inside", [".", "data"])
def test_a_result_dir_in_the_project_leaves_the_projects_files_alone(project: Path,
                                                                      inside: str) -> None:
    # The shard empties the subdirectories of its own directory before it runs; that
    # directory is RESULT_DIR/cross-validate/shard-i-of-N, never the project's data/.
    done = _invoke(str(project), "--shard", "1/2", "--rasa", "/no/rasa",
                   "--result-dir", str(project / inside))
    assert isinstance(done.exception, ToolkitError), done.output
    assert (project / "data" / "nlu.yml").is_file()
