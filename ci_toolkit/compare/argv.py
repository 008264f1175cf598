"""The rasa command lines of a comparison, every path explicit (rasa/runner.py's rule):
rasa runs in the project directory, so outputs are absolute and project files relative."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ci_toolkit.errors import UsageError
from ci_toolkit.pipeline.project import RasaProject


def one_data_path(project: RasaProject) -> str:
    if len(project.data) != 1:
        raise UsageError(f"A comparison takes a single data path, but {len(project.data)} "
                         "were given. Keep the training data under one directory and pass "
                         "that to --data.")
    return project.relative(project.data[0])


def _numbers(runs: int, percentages: Sequence[int]) -> list[str]:
    return ["--runs", str(runs), "--percentages", *map(str, percentages)]


def compare_nlu_argv(project: RasaProject, configs: Sequence[Path], *, runs: int,
                     percentages: Sequence[int], out: Path) -> list[str]:
    """rasa's NLU comparison: `rasa test nlu` with two or more configs."""
    return ["test", "nlu", "--config", *(str(c.resolve()) for c in configs),
            *_numbers(runs, percentages), "--nlu", one_data_path(project),
            "--domain", project.relative(project.domain), "--out", str(out.resolve())]


def train_core_comparison_argv(project: RasaProject, configs: Sequence[Path], *, runs: int,
                               percentages: Sequence[int], models: Path) -> list[str]:
    """rasa's policy comparison, part 1: `rasa train core` with two or more configs trains
    one model per run, config and percentage under MODELS/run_<r>/."""
    return ["train", "core", "--config", *(str(c.resolve()) for c in configs),
            *_numbers(runs, percentages), "--stories", one_data_path(project),
            "--domain", project.relative(project.domain), "--out", str(models.resolve())]


def test_core_comparison_argv(project: RasaProject, *, models: Path, out: Path) -> list[str]:
    """Part 2: `rasa test core --evaluate-model-directory` tests every model under MODELS."""
    if project.tests is None:
        raise UsageError("A policy comparison needs test stories. Add "
                         "tests/test_stories.yml or pass --tests.")
    return ["test", "core", "--model", str(models.resolve()), "--stories",
            project.relative(project.tests), "--evaluate-model-directory",
            "--out", str(out.resolve())]
