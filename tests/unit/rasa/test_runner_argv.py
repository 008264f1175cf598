from __future__ import annotations

from pathlib import Path

import pytest

from ci_toolkit.errors import UsageError
from ci_toolkit.pipeline.project import load_project
from ci_toolkit.rasa import runner
from tests.rasa_support import copy_example


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    copy_example(tmp_path / "bot")
    monkeypatch.chdir(tmp_path)  # the project is given relative to the working directory
    return load_project("bot")


def test_models_and_outputs_are_absolute_because_rasa_runs_in_the_project(project) -> None:
    argv = runner.test_core_argv(project, model=Path("bot/models/m.tar.gz"), out=Path("out"), extra=())
    model = argv[argv.index("--model") + 1]
    assert model == str(Path("bot/models/m.tar.gz").resolve())
    assert argv[argv.index("--out") + 1] == str(Path("out").resolve())
    # Project files stay relative to the project: failed-story names carry them.
    assert argv[argv.index("--stories") + 1] == "tests"


def test_every_path_is_explicit(project) -> None:
    train = runner.train_argv(project, train_type="all", out=Path("m"), fixed_model_name=None,
                              finetune=None, force=False, extra=("--epoch-fraction", "0.5"))
    assert train[:2] == ["train", "--config"]
    for flag in ("--config", "--domain", "--data", "--out"):
        assert flag in train
    assert train[-2:] == ["--epoch-fraction", "0.5"]
    nlu = runner.train_argv(project, train_type="nlu", out=Path("m"), fixed_model_name="x",
                            finetune="", force=True, extra=())
    assert nlu[:2] == ["train", "nlu"] and "--nlu" in nlu and "--finetune" in nlu
    assert "--force" not in nlu  # only `rasa train` knows --force
    cv = runner.cross_validate_argv(project, folds=4, out=Path("cv"), extra=())
    assert cv[cv.index("--folds") + 1] == "4" and "--cross-validation" in cv


def test_commands_with_one_data_path_refuse_several(tmp_path: Path, project) -> None:
    (Path("bot") / "more").mkdir()
    (Path("bot") / "more" / "nlu.yml").write_text("version: '3.1'\n")
    several = load_project("bot", data=["data", "more"])
    with pytest.raises(UsageError, match="takes a single data path"):
        runner.test_nlu_argv(several, model=Path("m"), out=Path("o"), extra=())


def test_rasa_cache_directory_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = runner.rasa_environment({}, rasa_cache=Path("bot/.ci-toolkit/cache/rasa"))
    assert env["RASA_CACHE_DIRECTORY"] == str(tmp_path / "bot/.ci-toolkit/cache/rasa")
    assert env["RASA_TELEMETRY_ENABLED"] == "false"
    assert "RASA_MAX_CACHE_SIZE" not in env


def test_no_cache_turns_rasas_own_cache_off() -> None:
    # Otherwise rasa would reuse components from PROJECT/.rasa/cache despite --no-cache.
    env = runner.rasa_environment({}, rasa_cache=None)
    assert env["RASA_MAX_CACHE_SIZE"] == "0"
    assert "RASA_CACHE_DIRECTORY" not in env


@pytest.mark.parametrize("name, given_to_rasa", [
    # rasa replaces what follows the last dot unless the name ends in .tar.gz
    # (rasa/model_training.py::_determine_model_name): `model.v1` would become model.tar.gz.
    ("model", "model.tar.gz"),
    ("model.v1", "model.v1.tar.gz"),
    ("model.tar.gz", "model.tar.gz"),
])
def test_the_fixed_model_name_is_saved_exactly_as_given(project, name: str,
                                                        given_to_rasa: str) -> None:
    argv = runner.train_argv(project, train_type="all", out=Path("m"), fixed_model_name=name,
                             finetune=None, force=False, extra=())
    assert argv[argv.index("--fixed-model-name") + 1] == given_to_rasa


@pytest.mark.parametrize(("version", "skips"), [
    ("3.6.21", True), ("3.7.0", True), ("4.0.0", True), (None, True), ("unknown", True),
    ("3.5.17", False), ("3.4.14", False),
])
def test_skip_validation_only_for_a_rasa_that_validates_while_training(
        project, version: str | None, skips: bool) -> None:
    # rasa 3.5 and older refuse --skip-validation (`rasa: error: unrecognized arguments`).
    argv = runner.train_argv(project, train_type="all", out=Path("m"), fixed_model_name=None,
                             finetune=None, force=False, extra=(),
                             skip_validation=runner.validates_while_training(version))
    assert ("--skip-validation" in argv) is skips
