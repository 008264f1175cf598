"""Read what `rasa test nlu --config A B --runs R --percentages P...` wrote.

rasa/nlu/test.py::compare_nlu and rasa/model_testing.py::compare_nlu_models (3.6), under
--out:

- ``results.json``: per config name (its file name without extension), one list per run of
  the intent F1 (sklearn's label-weighted average) at each exclusion percentage, in the
  order given;
- ``run_<r>/test.yml``: the run's test split (20% of the data, drawn afresh each run);
- ``run_<r>/<p>%_exclusion/train/train.yml``: the training data left after excluding p% of
  the run's other 80%;
- ``run_<r>/<p>%_exclusion/<name>.tar.gz`` and ``<name>_report/``: the model and its
  evaluation (``intent_report.json``, one ``<Extractor>_report.json`` per entity
  extractor);
- ``nlu_model_comparison_graph.pdf``.

A config whose training fails is not an error to rasa: it logs "Training model '<name>'
failed. Error: ..." and records an F1 of 0.0. So each measurement is checked here: without
its model the 0.0 is a failure, reported in rasa's words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci_toolkit.compare.failed import Failed, failed_training
from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.pipeline.project import load_yaml
from ci_toolkit.rasa.reports import entity_reports, read_json

RESULTS_FILE = "results.json"
TRAIN_FILE = "train.yml"  # rasa/constants.py TRAIN_DATA_FILE
PDF_GRAPH = "nlu_model_comparison_graph.pdf"
_TRAINING_FAILED = re.compile(r"Training model '(?P<name>[^']*)' failed\. Error: (?P<reason>.*)$")


@dataclass(frozen=True)
class NluMeasurement:
    """One config trained on one run's data at one exclusion percentage, and tested."""

    intent_f1: float
    entity_f1: dict[str, float]  # per entity extractor: its weighted-average F1
    training_examples: int | None


def percentage_dir(out: Path, run: int, percentage: int) -> Path:
    return out / f"run_{run}" / f"{percentage}%_exclusion"


def weighted_f1(report: dict[str, Any]) -> float | None:
    weighted = report.get("weighted_avg") or {}
    value = weighted.get("f1_score")
    return float(value) if isinstance(value, (int, float)) else None


def training_examples(directory: Path) -> int | None:
    """The intent examples in rasa's training split. rasa also writes empty ones (a bare
    ``-`` line), which are not counted; None when the file cannot be read (a count for the
    axis is never worth failing the comparison)."""
    try:
        content = load_yaml(directory / "train" / TRAIN_FILE, what="rasa's training split")
    except (UsageError, OSError):
        return None
    entries = content.get("nlu") if isinstance(content, dict) else None
    if not isinstance(entries, list):
        return None
    blocks = [entry["examples"] for entry in entries if isinstance(entry, dict)
              and "intent" in entry and isinstance(entry.get("examples"), str)]
    return sum(1 for block in blocks for line in block.splitlines()
               if line.strip().startswith("-") and line.strip()[1:].strip())


def _measurement(out: Path, name: str, run: int, percentage: int, intent_f1: float
                 ) -> NluMeasurement:
    directory = percentage_dir(out, run, percentage)
    entities = entity_reports(directory / f"{name}_report")
    return NluMeasurement(
        intent_f1=intent_f1,
        entity_f1={extractor: f1 for extractor, report in entities.items()
                   if (f1 := weighted_f1(report)) is not None},
        training_examples=training_examples(directory))


def _scores(raw: Any, name: str, runs: int, percentages: Sequence[int], path: Path
            ) -> list[list[float]]:
    lists = raw.get(name) if isinstance(raw, dict) else None
    shaped = (isinstance(lists, list) and len(lists) == runs
              and all(isinstance(row, list) and len(row) == len(percentages)
                      and all(isinstance(v, (int, float)) for v in row) for row in lists))
    if not shaped:
        raise ToolkitError(
            f"rasa's {path} has no {runs} runs of {len(percentages)} F1 scores for the "
            f"configuration {name!r} (it holds {sorted(raw) if isinstance(raw, dict) else raw!r})."
            " rasa skips a configuration it cannot read with only a warning; check its log.")
    return [[float(v) for v in row] for row in lists]  # type: ignore[union-attr]


def read_nlu_comparison(out: Path, names: Sequence[str], *, runs: int,
                        percentages: Sequence[int], log_text: str
                        ) -> dict[str, list[list[NluMeasurement]]]:
    """Per config name, per run, per percentage (in the order given): the measurement.
    A ToolkitError names every measurement rasa could not make, in its own words."""
    path = out / RESULTS_FILE
    raw = read_json(path)
    found: dict[str, list[list[NluMeasurement]]] = {}
    failures: list[Failed] = []
    reasons = failed_training(log_text, _TRAINING_FAILED)
    for name in names:
        scores = _scores(raw, name, runs, percentages, path)
        found[name] = []
        for run, row in enumerate(scores, start=1):
            found[name].append([])
            for percentage, f1 in zip(percentages, row):
                model = percentage_dir(out, run, percentage) / f"{name}.tar.gz"
                if not model.is_file():
                    failures.append(Failed(name, run, percentage, reasons.get(name)))
                    continue
                found[name][-1].append(_measurement(out, name, run, percentage, f1))
    if failures:
        raise ToolkitError(Failed.message(failures, what="rasa test nlu (comparison)"))
    return found
