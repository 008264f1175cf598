"""The stage registry is the one table of stages: every entry has a runner with the shape the
pipeline calls, and the settings switch each stage off as the options promise."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from ci_toolkit.pipeline import registry, stages
from ci_toolkit.pipeline.registry import BY_NAME, LABELS, NEEDS, STAGE_NAMES, STAGES
from ci_toolkit.pipeline.settings import PipelineSettings


def test_stage_names_are_unique_and_in_pipeline_order() -> None:
    assert STAGE_NAMES == ("validate", "train", "test_core", "test_nlu", "cross_validate")
    assert len(set(STAGE_NAMES)) == len(STAGES)
    assert list(LABELS) == list(NEEDS) == list(BY_NAME) == list(STAGE_NAMES)


def test_labels_and_needs() -> None:
    assert LABELS == {"validate": "validate", "train": "train", "test_core": "test core",
                      "test_nlu": "test nlu", "cross_validate": "cross-validate"}
    assert NEEDS["test_core"] == NEEDS["test_nlu"] == ("train",)
    assert NEEDS["cross_validate"] == ("validate",)  # runs beside training


@pytest.mark.parametrize("spec", STAGES, ids=STAGE_NAMES)
def test_every_stage_has_a_runner_taking_context_and_model(spec) -> None:
    function = getattr(stages, spec.runner)
    parameters = list(inspect.signature(function).parameters)
    assert len(parameters) == 2
    assert parameters[0] == "ctx"


def test_a_stage_runs_its_runner(monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(stages, "run_test_nlu", lambda ctx, model: calls.append((ctx, model)))
    stages.run_stage(BY_NAME["test_nlu"], "context", Path("model.tar.gz"))  # type: ignore[arg-type]
    assert calls == [("context", Path("model.tar.gz"))]


def _off(**settings: object) -> dict[str, str | None]:
    chosen = PipelineSettings(project_dir=Path("bot"), **settings)  # type: ignore[arg-type]
    return {spec.name: spec.switched_off(chosen) for spec in STAGES}


def test_by_default_everything_but_cross_validation_runs() -> None:
    assert _off() == {"validate": None, "train": None, "test_core": None, "test_nlu": None,
                      "cross_validate": registry.DISABLED}


def test_each_switch_turns_off_its_stage() -> None:
    assert _off(validate=False)["validate"] == "disabled"
    assert _off(train=False)["train"] == "disabled"
    assert _off(test=False)["test_core"] == _off(test=False)["test_nlu"] == "disabled"
    assert _off(cross_validation=True)["cross_validate"] is None


def test_a_given_model_replaces_training() -> None:
    assert _off(model="models/m.tar.gz")["train"] == "using the given model"
    assert _off(model="models/m.tar.gz", train=False)["train"] == "using the given model"


@pytest.mark.parametrize("test_type, core, nlu", [("all", None, None), ("core", None, "disabled"),
                                                  ("nlu", "disabled", None)])
def test_the_test_type_picks_the_tests(test_type, core, nlu) -> None:
    off = _off(test_type=test_type)
    assert (off["test_core"], off["test_nlu"]) == (core, nlu)
