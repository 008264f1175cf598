"""The two rasa steps every shard runs: train an NLU model on a file the toolkit wrote, and
test a model on another. Used by a cross-validation fold (crossval/shard.py) and by a
comparison shard (compare/shard.py). Every path is explicit; rasa's component cache is off,
since each model's components are new to it. Success is decided from rasa's files.

A shard runs its steps in one rasa interpreter (a ModelEvaluator, passed as ``rasa``): rasa
and TensorFlow are imported once, and the model is loaded once, for evaluation only, for both
of its tests, as rasa's own one-process cross-validation does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from ci_toolkit import proc
from ci_toolkit.pipeline.project import RasaProject
from ci_toolkit.rasa import failures, runner
from ci_toolkit.rasa.training_config import config_rasa_may_write


class RunsRasa(Protocol):
    """A RasaRuntime (one process per command) or a ModelEvaluator (one interpreter)."""

    def run(self, argv: Sequence[str], *, label: str, log_file: Path,
            extra_env: Mapping[str, str] | None = None) -> proc.Completed: ...


def train_nlu(runtime: runner.RasaRuntime, project: RasaProject, *, train_data: Path,
              models: Path, log_file: Path, model_name: str, label: str, what: str,
              rasa: RunsRasa | None = None) -> Path:
    """`rasa train nlu` of the project's config on ``train_data``: MODELS/MODEL_NAME.tar.gz.
    ``what`` names the training data in a failure ("the fold's training data"); ``rasa``
    runs the command (default: ``runtime``, a process of its own)."""
    with config_rasa_may_write(project, train_type="nlu", assistant_name=project.name,
                               notice=runtime.console.line) as config_project:
        argv = runner.train_argv(replace(config_project, data=(train_data,)), train_type="nlu",
                                 out=models, fixed_model_name=model_name, finetune=None,
                                 force=False, extra=())
        done = (rasa or runtime).run(argv, label=label, log_file=log_file,
                                     extra_env=runner.NO_RASA_CACHE)
    model = models / runner.model_file_name(model_name)
    failures.require_output(done, model, what=f"rasa train nlu on {what}",
                            root=project.root)
    return model


def test_nlu(runtime: runner.RasaRuntime, project: RasaProject, *, model: Path, data: Path,
             out: Path, log_file: Path, label: str, what: str, extra: Sequence[str] = (),
             rasa: RunsRasa | None = None, extra_env: Mapping[str, str] | None = None
             ) -> None:
    """`rasa test nlu` of ``model`` on ``data``; rasa's reports go to ``out``. ``extra_env``
    adds environment variables for this command."""
    argv = runner.test_nlu_argv(replace(project, data=(data,)), model=model, out=out,
                                extra=["--no-plot", *extra])
    done = (rasa or runtime).run(argv, label=label, log_file=log_file,
                                 extra_env={**runner.NO_RASA_CACHE, **(extra_env or {})})
    failures.require_output(done, out / "intent_report.json",
                            what=f"rasa test nlu on {what}", root=project.root)
