"""The pipeline commands' options are the settings' fields: same names, env vars, defaults,
and a command line becomes one PipelineSettings without a hand-written mapping."""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path

import click
import pytest

from ci_toolkit.cli import main
from ci_toolkit.commands import pipeline
from ci_toolkit.commands.gate_options import GATE_PARAMS
from ci_toolkit.github_context import ENV_VARS
from ci_toolkit.pipeline.settings import PipelineSettings, default_jobs


def _params(command: click.Command, *args: str) -> dict[str, object]:
    with command.make_context(command.name or "run", list(args)) as ctx:
        return dict(ctx.params)


def _settings(*args: str) -> PipelineSettings:
    params = _params(pipeline.run, *args)
    return PipelineSettings(**{k: v for k, v in params.items() if k not in GATE_PARAMS})


def test_every_setting_is_an_option_of_run_with_its_env_var() -> None:
    by_name = {param.name: param for param in pipeline.run.params}
    for declared in fields(PipelineSettings):
        param = by_name[declared.name]
        assert param.envvar == f"CI_TOOLKIT_{declared.metadata['envvar']}", declared.name
    assert set(by_name) == {f.name for f in fields(PipelineSettings)} | set(GATE_PARAMS)


def test_the_defaults_are_the_settings_defaults(monkeypatch) -> None:
    for declared in fields(PipelineSettings):
        monkeypatch.delenv(f"CI_TOOLKIT_{declared.metadata['envvar']}", raising=False)
    assert _settings("bot") == PipelineSettings(project_dir=Path("bot"))


def test_options_and_env_vars_reach_the_settings(monkeypatch) -> None:
    monkeypatch.setenv("CI_TOOLKIT_NO_CACHE", "true")
    monkeypatch.setenv("CI_TOOLKIT_TRAIN_ARGS", "--epoch-fraction 0.5")
    monkeypatch.setenv("CI_TOOLKIT_DATA_VALIDATE", "false")
    monkeypatch.setenv("CI_TOOLKIT_WORKSPACE", "assistant")
    settings = _settings("--timeout", "30", "-j", "3", "--test-type", "nlu", "--data", "a",
                         "--data", "b", "--validate-args", "--max-history 'five x'")
    assert settings.project_dir == Path("assistant")
    assert not settings.use_cache and settings.no_cache
    assert settings.train_args == ("--epoch-fraction", "0.5")
    assert settings.validate_args == ("--max-history", "five x")
    assert settings.validate is False
    assert (settings.timeout_s, settings.jobs, settings.test_type) == (30.0, 3, "nlu")
    assert settings.data == ("a", "b")


def test_jobs_auto_is_the_measured_default() -> None:
    assert _settings("--jobs", "auto").jobs == default_jobs()
    with pytest.raises(click.BadParameter, match="not a number of jobs"):
        _settings("--jobs", "0")


def test_extra_arguments_that_cannot_be_split_are_a_usage_error() -> None:
    with pytest.raises(click.BadParameter, match="--train-args could not be split"):
        _settings("--train-args", "--name 'unclosed")


def test_single_stage_commands_keep_their_own_options() -> None:
    names = {command: {p.name for p in getattr(pipeline, command).params}
             for command in ("validate", "train", "test", "cross_validate")}
    assert {"validate_args", "fail_on_warnings"} <= names["validate"]
    assert "train_type" not in names["validate"]
    assert {"train_type", "finetune"} <= names["train"] and "model" not in names["train"]
    assert {"model", "test_type", "tests"} <= names["test"]
    assert {"folds", "test_nlu_args"} <= names["cross_validate"]
    help_text = next(p for p in pipeline.cross_validate.params if p.name == "test_nlu_args").help
    assert help_text == "Extra arguments for `rasa test nlu --cross-validation`."


def test_the_github_variables_read_are_known_to_the_github_context() -> None:
    assert set(pipeline.ENV_VARS_READ) <= set(ENV_VARS)
    assert {"GITHUB_SHA", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"} <= set(pipeline.ENV_VARS_READ)


@pytest.fixture
def executed(monkeypatch) -> list[PipelineSettings]:
    """The settings each command hands to execute (which is not run)."""
    calls: list[PipelineSettings] = []
    monkeypatch.setattr(pipeline, "execute", lambda settings, **_: calls.append(settings) or 0)
    return calls


def _switches(settings: PipelineSettings) -> dict[str, bool]:
    return {name: getattr(settings, name) for name in pipeline.STAGE_SWITCHES}


@pytest.mark.parametrize("command, switch", [("validate", "validate"), ("train", "train"),
                                             ("cross-validate", "cross_validation")])
def test_a_single_stage_command_runs_its_stage_only(tmp_path, executed, command, switch) -> None:
    assert main([command, str(tmp_path)]) == 0
    [settings] = executed
    assert _switches(settings) == {name: name == switch for name in pipeline.STAGE_SWITCHES}
    assert settings.project_dir == tmp_path


def test_test_without_a_model_tests_the_latest_one(tmp_path, executed, capsys) -> None:
    (tmp_path / "config.yml").touch()  # a Rasa project, as `test` checks before the models
    models = tmp_path / "models"
    models.mkdir()
    for age, name in enumerate(["new.tar.gz", "old.tar.gz"]):
        (models / name).write_bytes(b"model")
        os.utime(models / name, (1_000_000 - age, 1_000_000 - age))
    assert main(["test", str(tmp_path)]) == 0
    [settings] = executed
    assert settings.model == str(models / "new.tar.gz")
    assert _switches(settings) == {"validate": False, "train": False, "test": True,
                                   "cross_validation": False}
    assert "Testing the latest model" in capsys.readouterr().err


def test_test_without_any_model_says_how_to_get_one(tmp_path, executed, capsys) -> None:
    (tmp_path / "config.yml").touch()
    assert main(["test", str(tmp_path)]) == 2
    assert "No model to test" in capsys.readouterr().err
    assert executed == []
