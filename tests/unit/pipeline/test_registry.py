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


def _needs_transitively(stage: str) -> set[str]:
    found: set[str] = set()
    todo = list(NEEDS[stage])
    while todo:
        need = todo.pop()
        if need not in found:
            found.add(need)
            todo.extend(NEEDS[need])
    return found


def _may_run_together(a: str, b: str) -> bool:
    """What the scheduler allows: neither needs the other, and they share no lane."""
    if a in _needs_transitively(b) or b in _needs_transitively(a):
        return False
    return not (a in registry.LANES and registry.LANES.get(a) == registry.LANES.get(b))


def test_stages_that_may_run_at_the_same_time_never_share_an_interpreter() -> None:
    # One interpreter runs one command at a time: two such stages sharing it would wait for
    # each other, and --jobs 2 would run them one after the other.
    for a in STAGE_NAMES:
        for b in STAGE_NAMES:
            if a < b and _may_run_together(a, b):
                assert BY_NAME[a].interpreter != BY_NAME[b].interpreter, (a, b)


def test_validation_training_and_the_tests_share_one_interpreter_cross_validation_has_its_own(
) -> None:
    run = {BY_NAME[name].interpreter for name in ("validate", "train", "test_core", "test_nlu")}
    assert run == {registry.RUN_INTERPRETER}
    assert BY_NAME["cross_validate"].interpreter == registry.CROSS_VALIDATION_INTERPRETER
    assert registry.INTERPRETERS == (registry.RUN_INTERPRETER,
                                     registry.CROSS_VALIDATION_INTERPRETER)


class _Interpreter:
    def __init__(self, name: str, calls: list) -> None:
        self.name, self.calls = name, calls

    def run(self, argv, *, label, log_file, extra_env=None):
        self.calls.append((self.name, label, tuple(argv), dict(extra_env or {})))
        return "done"


@pytest.mark.parametrize("stage", STAGE_NAMES)
def test_a_stage_runs_its_rasa_command_in_its_interpreter_with_its_environment(
        stage, tmp_path: Path) -> None:
    calls: list = []
    interpreters = {name: _Interpreter(name, calls) for name in registry.INTERPRETERS}
    ctx = stages.StageContext(runtime=None, settings=None, results_root=tmp_path,  # type: ignore[arg-type]
                              logs_dir=tmp_path, interpreters=interpreters)

    assert ctx.rasa(stage, ["test"], extra_env={"RASA_MAX_CACHE_SIZE": "0"}) == "done"

    assert calls == [(BY_NAME[stage].interpreter, LABELS[stage], ("test",),
                      {"RASA_MAX_CACHE_SIZE": "0"})]


def test_without_interpreters_a_stage_runs_its_command_in_its_own_process(tmp_path: Path) -> None:
    calls: list = []
    runtime = _Interpreter("process", calls)
    ctx = stages.StageContext(runtime=runtime, settings=None, results_root=tmp_path,  # type: ignore[arg-type]
                              logs_dir=tmp_path)

    ctx.rasa("train", ["train"])

    assert calls == [("process", "train", ("train",), {})]
