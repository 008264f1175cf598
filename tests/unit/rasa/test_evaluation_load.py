"""The worker's evaluation-only load (ci_toolkit/rasa/evaluator_worker.py) decides, for each
TensorFlow model rasa loads, between reading the weights without rasa's training step and
rasa's own load. Here rasa and TensorFlow are stand-ins that record what is called; that the
evaluation-only load gives rasa's exact results is proved with real rasa and real models in
tests/integration/test_model_evaluator.py."""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

WORKER = Path(__file__).resolve().parents[3] / "ci_toolkit" / "rasa" / "evaluator_worker.py"


class Status:
    """What TensorFlow's load_weights returns for a checkpoint."""

    def __init__(self, calls: list[str], unmatched: bool) -> None:
        self.calls, self.unmatched = calls, unmatched

    def assert_existing_objects_matched(self) -> None:
        self.calls.append("assert_existing_objects_matched")
        if self.unmatched:
            raise AssertionError("Unresolved object in checkpoint: (root).extra_layer.kernel")

    def expect_partial(self) -> None:
        self.calls.append("expect_partial")


def _stand_in_modules(unmatched: bool, needs_autograph: bool
                      ) -> tuple[dict[str, types.ModuleType], list[str]]:
    calls: list[str] = []

    def do_not_convert(function: Any) -> Any:
        def as_written(*args: Any) -> Any:
            return function(*args)
        as_written.as_written = True  # type: ignore[attr-defined]
        return as_written

    class RasaModel:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            calls.append(f"init {kwargs.get('config')}")

        @classmethod
        def load(cls, model_file_name: str, model_data_example: Any,
                 predict_data_example: Any = None, finetune_mode: bool = False,
                 *args: Any, **kwargs: Any) -> str:
            calls.append("rasa's load")
            return "loaded by rasa"

        def compile(self, optimizer: Any, run_eagerly: Any) -> None:
            calls.append(f"compile {optimizer} {run_eagerly}")

        def load_weights(self, path: str) -> Status:
            calls.append(f"load_weights {path}")
            return Status(calls, unmatched)

        def predict_step(self, batch: Any) -> None:
            pass

        def run_inference(self, data: Any) -> None:
            # rasa traces self.predict_step; a step with Python control flow over a tensor's
            # value cannot be traced as written.
            as_written = getattr(self.predict_step, "as_written", False)
            calls.append(f"run_inference {data} {'as written' if as_written else 'AutoGraph'}")
            if as_written and needs_autograph:
                raise TypeError("Using a symbolic `tf.Tensor` as a Python `bool` is not "
                                "allowed: AutoGraph did convert this function.")

    class DIET(RasaModel):
        pass

    modules = {name: types.ModuleType(name) for name in (
        "rasa", "rasa.utils", "rasa.utils.tensorflow", "rasa.utils.tensorflow.models",
        "rasa.utils.tensorflow.constants", "tensorflow")}
    modules["rasa.utils.tensorflow.models"].RasaModel = RasaModel  # type: ignore[attr-defined]
    modules["rasa.utils.tensorflow.models"].DIET = DIET  # type: ignore[attr-defined]
    modules["rasa.utils.tensorflow.constants"].LEARNING_RATE = "learning_rate"  # type: ignore[attr-defined]
    modules["rasa.utils.tensorflow.constants"].RUN_EAGERLY = "run_eagerly"  # type: ignore[attr-defined]
    adam = types.SimpleNamespace(Adam=lambda rate: f"Adam({rate})")
    modules["tensorflow"].keras = types.SimpleNamespace(optimizers=adam)  # type: ignore[attr-defined]
    modules["tensorflow"].autograph = types.SimpleNamespace(  # type: ignore[attr-defined]
        experimental=types.SimpleNamespace(do_not_convert=do_not_convert))
    return modules, calls


@pytest.fixture
def worker() -> Iterator[types.ModuleType]:
    spec = importlib.util.spec_from_file_location("evaluator_worker_under_test", WORKER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module


def _install(monkeypatch: pytest.MonkeyPatch, *, unmatched: bool = False,
             needs_autograph: bool = False) -> tuple[type, list[str]]:
    modules, calls = _stand_in_modules(unmatched, needs_autograph)
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return modules["rasa.utils.tensorflow.models"].DIET, calls  # type: ignore[attr-defined]


def test_a_model_for_prediction_is_read_without_the_training_step(
        worker: types.ModuleType, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CI_TOOLKIT_EVALUATION_LOAD", raising=False)
    diet, calls = _install(monkeypatch)
    worker._load_for_evaluation()
    model = diet.load("model.tf_model", "train example", "predict example",
                      config={"learning_rate": 0.01, "run_eagerly": False})
    assert isinstance(model, diet)
    # The weights are read before the first prediction creates the variables (tracing
    # rasa's prediction step as written), and every variable created is checked against the
    # checkpoint before the model is used.
    assert calls == ["init {'learning_rate': 0.01, 'run_eagerly': False}",
                     "compile Adam(0.01) False", "load_weights model.tf_model",
                     "run_inference predict example as written",
                     "assert_existing_objects_matched", "expect_partial"]
    assert capsys.readouterr().err == ""


def test_a_prediction_step_that_needs_autograph_is_loaded_again_with_it(
        worker: types.ModuleType, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CI_TOOLKIT_EVALUATION_LOAD", raising=False)
    diet, calls = _install(monkeypatch, needs_autograph=True)
    worker._load_for_evaluation()
    model = diet.load("model.tf_model", "train example", "predict example", config={})
    assert isinstance(model, diet)
    assert "predict_step" not in vars(model)  # a new model, traced by rasa's own way
    # Still evaluation-only: a fresh model reads the checkpoint again, no training step.
    assert calls == ["init {}", "compile Adam(0.001) None", "load_weights model.tf_model",
                     "run_inference predict example as written",
                     "init {}", "compile Adam(0.001) None", "load_weights model.tf_model",
                     "run_inference predict example AutoGraph",
                     "assert_existing_objects_matched", "expect_partial"]
    assert capsys.readouterr().err == ""


def test_a_variable_missing_from_the_checkpoint_falls_back_to_rasas_load(
        worker: types.ModuleType, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CI_TOOLKIT_EVALUATION_LOAD", raising=False)
    diet, calls = _install(monkeypatch, unmatched=True)
    worker._load_for_evaluation()
    assert diet.load("model.tf_model", "train example", "predict example") == "loaded by rasa"
    assert calls[-1] == "rasa's load"
    err = capsys.readouterr().err
    assert "evaluation-only load of DIET failed" in err
    assert "extra_layer.kernel" in err and "loading it as rasa does" in err


@pytest.mark.parametrize(("predict_example", "finetune"), [
    (None, False),               # nothing to build the prediction graph with
    ("predict example", True),   # fine-tuning trains on: it needs rasa's training graph
])
def test_fine_tuning_or_no_prediction_example_is_rasas_own_load(
        worker: types.ModuleType, monkeypatch: pytest.MonkeyPatch,
        predict_example: str | None, finetune: bool) -> None:
    monkeypatch.delenv("CI_TOOLKIT_EVALUATION_LOAD", raising=False)
    diet, calls = _install(monkeypatch)
    worker._load_for_evaluation()
    assert diet.load("m", "train example", predict_example, finetune) == "loaded by rasa"
    assert calls == ["rasa's load"]


def test_the_environment_variable_keeps_rasas_load(
        worker: types.ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI_TOOLKIT_EVALUATION_LOAD", "rasa")
    diet, calls = _install(monkeypatch)
    worker._load_for_evaluation()
    assert diet.load("m", "train example", "predict example") == "loaded by rasa"
    assert calls == ["rasa's load"]


def test_a_rasa_whose_load_takes_other_parameters_is_left_alone(
        worker: types.ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI_TOOLKIT_EVALUATION_LOAD", raising=False)
    diet, _ = _install(monkeypatch)
    models = sys.modules["rasa.utils.tensorflow.models"]

    def load(cls: type, path: str, example: Any, *, mode: str = "predict") -> str:
        return "loaded by a future rasa"

    monkeypatch.setattr(models.RasaModel, "load", classmethod(load))  # type: ignore[attr-defined]
    worker._load_for_evaluation()
    assert diet.load("m", "train example") == "loaded by a future rasa"


def test_a_fresh_process_state_puts_back_handlers_filters_environment_and_path(
        worker: types.ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """What one command changes (rasa's entry point: a filter on every root handler it finds,
    a handler of its own, LOG_LEVEL, the working directory on sys.path) the next command
    does not see; the command's own variables are set for it."""
    import logging

    root = logging.getLogger()
    present = logging.NullHandler()
    monkeypatch.setattr(root, "handlers", [present])
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    fresh = worker._FreshProcess()

    present.addFilter(logging.Filter("rasa"))
    root.addHandler(logging.NullHandler())
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    sys.path.insert(1, "/a/project")
    fresh.restore({"RASA_MAX_CACHE_SIZE": "0"})

    assert root.handlers == [present] and present.filters == []
    assert "LOG_LEVEL" not in os.environ and os.environ["RASA_MAX_CACHE_SIZE"] == "0"
    assert "/a/project" not in sys.path
    monkeypatch.delenv("RASA_MAX_CACHE_SIZE")
