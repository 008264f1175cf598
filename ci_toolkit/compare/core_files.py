"""Read what rasa's policy comparison wrote.

`rasa train core --config A B --runs R --percentages P...` (rasa/core/train.py, 3.6) saves
MODELS/run_<r>/<name>__percentage__<p>.tar.gz (name: the config's file name without
extension) and MODELS/num_stories.json, the number of training stories left at each
percentage, in the order given. `rasa test core --model MODELS --evaluate-model-directory`
(rasa/core/test.py::compare_models_in_dir) writes OUT/results.json: per config name, one list
per run directory of the number of test stories the model got entirely right, one number
per model file *in the order of the sorted file names*, so `__percentage__10` comes before
`__percentage__5`. That order is undone here. Rasa scores no actions in this mode: the number
of correct stories is all it measures.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ci_toolkit.compare.failed import Failed
from ci_toolkit.errors import ToolkitError
from ci_toolkit.pipeline.project import load_yaml, yaml_files
from ci_toolkit.rasa.reports import read_json

RESULTS_FILE = "results.json"
STORIES_FILE = "num_stories.json"
PERCENTAGE_KEY = "__percentage__"  # rasa/constants.py


def model_file(models: Path, run: int, name: str, percentage: int) -> Path:
    return models / f"run_{run}" / f"{name}{PERCENTAGE_KEY}{percentage}.tar.gz"


def rasa_order(percentages: Sequence[int]) -> list[int]:
    """The percentages in the order rasa tests a run's models: by file name."""
    return sorted(percentages, key=lambda p: f"{p}.tar.gz")


def missing_models(models: Path, names: Sequence[str], *, runs: int,
                   percentages: Sequence[int]) -> list[Failed]:
    return [Failed(name, run, percentage, None)
            for run in range(1, runs + 1) for percentage in percentages for name in names
            if not model_file(models, run, name, percentage).is_file()]


def count_test_stories(tests: Path) -> int:
    """The stories in the test files: what each model's correct stories are out of."""
    total = 0
    for path in yaml_files(tests):
        content = load_yaml(path, what="The test stories file")
        stories = content.get("stories") if isinstance(content, dict) else None
        total += len(stories) if isinstance(stories, list) else 0
    return total


def _run_lists(raw: Any, name: str, runs: int, count: int, path: Path) -> list[list[int]]:
    lists = raw.get(name) if isinstance(raw, dict) else None
    if not (isinstance(lists, list) and len(lists) == runs and all(
            isinstance(row, list) and len(row) == count
            and all(isinstance(v, int) for v in row) for row in lists)):
        raise ToolkitError(f"rasa's {path} has no {runs} runs of {count} correct-story counts "
                           f"for the configuration {name!r}. Check rasa's log.")
    return lists  # type: ignore[return-value]


def read_core_comparison(models: Path, out: Path, names: Sequence[str], *, runs: int,
                         percentages: Sequence[int], test_stories: int
                         ) -> dict[str, list[list[dict[str, Any]]]]:
    """Per config name, per run, per percentage (in the order given): correct stories,
    their share of ``test_stories`` and the number of training stories."""
    path = out / RESULTS_FILE
    raw = read_json(path)
    training = read_json(models / STORIES_FILE)
    if not (isinstance(training, list) and len(training) == len(percentages)):
        raise ToolkitError(f"rasa's {models / STORIES_FILE} does not list the training "
                           f"stories of {len(percentages)} percentages.")
    tested = rasa_order(percentages)
    found: dict[str, list[list[dict[str, Any]]]] = {}
    for name in names:
        found[name] = []
        for row in _run_lists(raw, name, runs, len(percentages), path):
            by_percentage = dict(zip(tested, row))
            found[name].append([
                {"correct_stories": by_percentage[p],
                 "story_accuracy": by_percentage[p] / test_stories if test_stories else None,
                 "training_stories": training[index]}
                for index, p in enumerate(percentages)])
    return found
