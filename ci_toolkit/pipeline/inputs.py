"""Checks of a run's options and paths that need no rasa, made before any stage runs.

A bad path found at the end of a run (a report directory that is a file) would lose every
result the run produced; a bad model found by rasa reads as a rasa failure deep in a log.
Each check raises a UsageError (exit 2) that names the option, the path and the fix.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ci_toolkit.errors import UsageError
from ci_toolkit.pipeline.project import locate_parts
from ci_toolkit.pipeline.registry import STAGES
from ci_toolkit.rasa.model_archive import check_model_archive
from ci_toolkit.rasa.runner import fixed_model_name_problem

if TYPE_CHECKING:
    from ci_toolkit.pipeline.settings import PipelineSettings



def conflicting_options(settings: PipelineSettings) -> str | None:
    """Options that contradict each other, or None."""
    if settings.model and settings.finetune and settings.train:
        return ("--model and --finetune contradict each other: --model tests an existing model "
                "and skips training, --finetune trains starting from the latest model in "
                "--models-dir. Drop one of them (to fine-tune a given model, put it in "
                "--models-dir).")
    if all(stage.switched_off(settings) for stage in STAGES):
        # A run of nothing would only replace report.json with an empty one.
        return ("Every stage is switched off, so there is nothing to run. Switch one on "
                "(--validate, --train, --test or --cross-validation).")
    return fixed_model_name_problem(settings.fixed_model_name)


def _check_output_dir(path: Path, option: str) -> None:
    """A directory the run writes into: created here when absent, or a writable directory."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path} is a file, not a directory. Point {option} at a "
                         "directory (it is created when missing) or move the file away.")
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is None:
        return
    if not existing.is_dir():
        raise UsageError(f"{option} {path} cannot be created: {existing} is a file. Point "
                         f"{option} somewhere else.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path} cannot be written: {existing} is not writable. "
                         f"Point {option} at a writable directory.")
    # os.access says yes to root almost everywhere (/proc, read-only mounts): only creating
    # the directory proves it can be, before any stage runs and its results are lost.
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{option} {path} cannot be created ({error.strerror or error}). "
                         f"Point {option} at a writable directory.") from error


def output_dirs(settings: PipelineSettings) -> Iterable[tuple[Path, str]]:
    yield settings.results_root, "--result-dir"
    yield settings.reports_root, "--report-dir"
    if settings.train or settings.finetune:
        yield settings.models_root, "--models-dir"
    if settings.use_cache:
        yield settings.cache_root, "--cache-dir"


def check_paths(settings: PipelineSettings) -> None:
    """Options that contradict each other, the directories the run writes (created here,
    inside a project only once it is known to be one), and the model --finetune starts
    from."""
    problem = conflicting_options(settings)
    if problem:
        raise UsageError(problem)
    locate_parts(settings.project_dir, config=settings.config, domain=settings.domain,
                 data=list(settings.data) or None)
    for path, option in output_dirs(settings):
        _check_output_dir(path, option)
    if settings.finetune and settings.train and not any(settings.models_root.glob("*.tar.gz")):
        # rasa would say so only after loading everything, and exit 1 as if training failed.
        raise UsageError(f"--finetune starts from the latest model in --models-dir "
                         f"{settings.models_root}, but there is none. Train once without "
                         "--finetune, or point --models-dir at your models.")


def resolve_model(settings: PipelineSettings) -> Path | None:
    """The --model to test, checked; None when none was given."""
    if not settings.model:
        return None
    model = Path(settings.model)
    if not model.is_absolute() and not model.exists():
        model = settings.project_dir / model
    if not model.exists():
        raise UsageError(f"The model {settings.model} does not exist. Pass the path of a "
                         "trained model archive (.tar.gz) to --model, or train one.")
    check_model_archive(model)
    return model
