"""The comparison section: per config and amount of training data, mean ± std over runs,
and the winner.

rasa's percentages are exclusion percentages: at p, the model trains on (100 - p)% of the
training split. So the section gives both, and the points of each config run from the most
training data to the least. The winner is the config with the highest mean of the headline
metric (intent F1 for NLU, the share of correct test stories for core) at the most training
data compared (exclusion 0 when it was given); the margin is its lead over the runner-up.
Mean and standard deviation are numpy's (population std), as rasa's own plot draws them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ci_toolkit.crossval.merge import mean_std

FORMAT = "ci-toolkit/comparison"
VERSION = 1
HEADLINE = {"nlu": "intent_f1", "core": "story_accuracy"}
# Means closer than this are a tie: F1 scores that differ only in float rounding.
TIE_TOLERANCE = 1e-9

# One config's numbers: per run, per percentage (in the order given), metric -> value, where
# a value is a number or, for per-extractor metrics (entity_f1), a mapping name -> number.
Runs = Sequence[Sequence[Mapping[str, Any]]]


def summary(values: Sequence[float]) -> dict[str, Any]:
    """Mean and population std over the runs, with each run's value."""
    return {**mean_std(values), "runs": list(values)}


def _metric_summary(per_run: Sequence[Any]) -> Any:
    """A metric over the runs: numbers give a summary; mappings (per extractor) give one
    summary per name that every run has; a metric no run has gives None."""
    present = [value for value in per_run if value is not None]
    if not present:
        return None
    if all(isinstance(value, Mapping) for value in present):
        names = sorted(set.intersection(*(set(value) for value in present)))
        return {name: summary([float(value[name]) for value in present]) for name in names}
    return summary([float(value) for value in present])


def _points(runs: Runs, percentages: Sequence[int]) -> list[dict[str, Any]]:
    points = []
    for index, percentage in enumerate(percentages):
        at = [run[index] for run in runs]
        metrics = sorted({name for measurement in at for name in measurement})
        point: dict[str, Any] = {"exclusion_percentage": percentage,
                                 "training_data_percentage": 100 - percentage}
        for name in metrics:
            point[name] = _metric_summary([measurement.get(name) for measurement in at])
        points.append(point)
    return sorted(points, key=lambda p: p["exclusion_percentage"])


def winner(configs: Sequence[Mapping[str, Any]], metric: str) -> dict[str, Any]:
    """The config with the highest mean ``metric`` at the most training data, its margin
    over the runner-up, and the configs tied for first place (then ``config`` is None)."""
    ranked = sorted(((config["points"][0][metric]["mean"], config["name"])
                     for config in configs), key=lambda pair: -pair[0])
    best, name = ranked[0]
    second, runner_up = ranked[1]
    tied = [n for mean, n in ranked if math.isclose(mean, best, rel_tol=0,
                                                    abs_tol=TIE_TOLERANCE)]
    point = configs[0]["points"][0]
    return {
        "config": name if len(tied) == 1 else None,
        "tied": tied if len(tied) > 1 else [],
        "metric": metric,
        "exclusion_percentage": point["exclusion_percentage"],
        "training_data_percentage": point["training_data_percentage"],
        "mean": best,
        "runner_up": runner_up if len(tied) == 1 else None,
        "runner_up_mean": second,
        "margin": best - second,
    }


def build_section(kind: str, results: Mapping[str, Runs], *, files: Mapping[str, str],
                  runs: int, percentages: Sequence[int], rasa_version: str | None
                  ) -> dict[str, Any]:
    """The comparison section of configs ``results`` (name -> their runs, in the order
    the configs were given); ``files`` names each config's file as the user gave it."""
    configs = [{"name": name, "file": files[name], "points": _points(config_runs, percentages)}
               for name, config_runs in results.items()]
    metric = HEADLINE[kind]
    return {
        "format": FORMAT, "version": VERSION, "kind": kind, "runs": runs,
        "exclusion_percentages": list(percentages), "rasa_version": rasa_version,
        "metric": metric, "configs": configs, "winner": winner(configs, metric),
        "plot": None,
    }
