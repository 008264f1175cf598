"""Pool shard reports into the cross-validation section a single-machine run writes.

The pooled report of a task is recomputed from all folds' test predictions with rasa's
arithmetic (classification.py), which is what rasa does with its folds' predictions in one
process. ``train``/``test`` are the mean and population standard deviation over the folds
of each fold's accuracy, weighted F1 and weighted precision, the numbers rasa logs (it
prints them to 3 decimals; here they keep full precision).

Entities: rasa scores entities per token, with the tokens of the model's own tokenizer,
which its result files do not record. A shard run in the model evaluator records the token
labels rasa scored (``entity_token_labels``); the pooled entity report is recomputed from
them, with "no_entity" excluded as rasa does. When any shard lacks them, ``pooled`` is
``null``. The train/test mean ± std per extractor are exact either way.

Shards only pool when they are one split of the same data: the same seed, number of folds,
data fingerprint and config, and every fold exactly once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci_toolkit.crossval.classification import classification_report, numpy_sum
from ci_toolkit.crossval.shard_report import ShardReport, load_shard_report
from ci_toolkit.errors import UsageError
from ci_toolkit.options import setting
from ci_toolkit.rasa.reports import classification_from_raw


@dataclass(frozen=True)
class MergeRequest:
    """`ci-toolkit merge`: each field is one of its arguments or options."""

    shard_reports: tuple[Path, ...] = setting((), envvar="SHARD_REPORTS",
                                              help="The shard-report.json of every shard.")
    out: Path | None = setting(
        None, metavar="FILE", envvar="MERGED_CROSS_VALIDATION",
        help="Write the merged section (cross_validation, or comparison for compare shards) "
             "here. [default: standard output, unless --report is given]")
    report: Path | None = setting(
        None, metavar="FILE", envvar="MERGED_REPORT",
        help="Write a complete report.json with the merged section (cross_validation with a "
             "cross_validate stage, or comparison), for `ci-toolkit summary`. An existing "
             "report keeps everything else.")
    # Shared with `ci-toolkit run` (commands/crossval.py): draws a comparison's plot.
    rasa: str | None = None


METRICS = ("accuracy", "f1_score", "precision")
_MUST_AGREE = (("folds", "number of folds"), ("seed", "seed"),
               ("data_fingerprint", "training data"), ("config_sha256", "model configuration"))


def check_agreement(shards: Sequence[Any], must_agree: Sequence[tuple[str, str]], *,
                    what: str, fix: str) -> None:
    """The shards (each with ``.path`` and ``.identity(key)``) agree on every key of
    ``must_agree`` ((key, what it is) pairs), or a UsageError names the files of each value.
    ``what`` names the whole ("cross-validation"); ``fix`` says how to run the shards."""
    if not shards:
        raise UsageError("No shard reports to merge. Pass the shard-report.json of every "
                         "shard: ci-toolkit merge shard-1/shard-report.json ...")
    for key, meaning in must_agree:
        values: dict[str, list[str]] = {}
        for shard in shards:
            values.setdefault(json.dumps(shard.identity(key), sort_keys=True), []).append(
                str(shard.path))
        if len(values) > 1:
            listed = "; ".join(f"{value}: {', '.join(paths)}" for value, paths in values.items())
            raise UsageError(f"These shards are not one {what}: the shards differ in their "
                             f"{meaning} ({key}: {listed}). {fix}")


def check_each_once(indexed: Sequence[tuple[int, Path]], total: int, *, what: str) -> None:
    """Every ``what`` (fold, shard) 1..total given exactly once, or a UsageError naming the
    files of a repeated one and the numbers of the missing ones."""
    seen: dict[int, list[str]] = {}
    for index, path in indexed:
        seen.setdefault(index, []).append(str(path))
    twice = {index: paths for index, paths in seen.items() if len(paths) > 1}
    if twice:
        listed = "; ".join(f"{what} {index}: {', '.join(paths)}"
                           for index, paths in twice.items())
        raise UsageError(f"A {what} was given more than once ({listed}). Pass each {what}'s "
                         "shard report once.")
    missing = sorted(set(range(1, total + 1)) - set(seen))
    if missing:
        raise UsageError(f"The shards of {what}(s) {', '.join(map(str, missing))} of {total} "
                         "are missing. Pass every shard's report; a failed shard must be run "
                         "again.")


def check_compatible(shards: Sequence[ShardReport]) -> int:
    """The number of folds, once the shards are known to be one complete split."""
    check_agreement(shards, _MUST_AGREE, what="cross-validation",
                    fix="Run every shard with the same data, config, --seed and N in "
                        "--shard i/N.")
    folds = int(shards[0].identity("folds"))
    check_each_once([(shard.fold, shard.path) for shard in shards], folds, what="fold")
    return folds


def mean_std(values: Sequence[float]) -> dict[str, float]:
    """Mean and population standard deviation, as numpy's mean and std compute them."""
    mean = numpy_sum(values) / len(values)
    variance = numpy_sum([abs(value - mean) ** 2 for value in values]) / len(values)
    return {"mean": mean, "std": math.sqrt(variance)}


def _over_folds(per_fold: Iterable[dict[str, float] | None]) -> dict[str, dict[str, float]]:
    present = [metrics for metrics in per_fold if metrics]
    if not present:
        return {}
    return {name: mean_std([float(m[name]) for m in present]) for name in METRICS
            if all(isinstance(m.get(name), (int, float)) for m in present)}


def _fold_task(shards: Sequence[ShardReport], split: str, task: str, name: str | None = None
               ) -> list[dict[str, float] | None]:
    found = []
    for shard in shards:
        metrics = shard.metrics(split).get(task)
        found.append(metrics.get(name) if name is not None and isinstance(metrics, dict)
                     else metrics)
    return found


def pooled_report(shards: Sequence[ShardReport], task: str, gold: str, predicted: str
                  ) -> dict[str, Any] | None:
    records = [record for shard in shards for record in shard.predictions(task)]
    raw = classification_report([r[gold] for r in records], [r[predicted] for r in records])
    return classification_from_raw(raw)


def _task(shards: Sequence[ShardReport], task: str, gold: str, predicted: str
          ) -> dict[str, Any] | None:
    pooled = pooled_report(shards, task, gold, predicted)
    train = _over_folds(_fold_task(shards, "train", task))
    test = _over_folds(_fold_task(shards, "test", task))
    if pooled is None and not train and not test:
        return None
    return {"pooled": pooled, "train": train, "test": test}


def _pooled_entities(shards: Sequence[ShardReport], extractor: str) -> dict[str, Any] | None:
    """rasa's report of ``extractor`` over every shard's token labels, or None."""
    recorded = [shard.entity_token_labels(extractor) for shard in shards]
    if any(labels is None for labels in recorded):
        return None
    targets = [label for labels in recorded if labels for label in labels[0]]
    predictions = [label for labels in recorded if labels for label in labels[1]]
    no_entity = recorded[0][2] if recorded[0] else None
    return classification_from_raw(classification_report(targets, predictions,
                                                         exclude_label=no_entity))


def _entities(shards: Sequence[ShardReport]) -> dict[str, Any]:
    names = sorted({name for shard in shards for split in ("train", "test")
                    for name in (shard.metrics(split).get("entity_extraction") or {})})
    return {name: {"pooled": _pooled_entities(shards, name),
                   "train": _over_folds(_fold_task(shards, "train", "entity_extraction", name)),
                   "test": _over_folds(_fold_task(shards, "test", "entity_extraction", name))}
            for name in names}


def merge_shards(shards: Sequence[ShardReport]) -> dict[str, Any]:
    """The cross_validation section of report.json for these shards."""
    ordered = sorted(shards, key=lambda shard: shard.fold)
    folds = check_compatible(ordered)
    return {
        "folds": folds,
        "intent_classification": _task(ordered, "intent_classification", "intent",
                                       "predicted_intent"),
        "entity_extraction": _entities(ordered),
        "response_selection": _task(ordered, "response_selection", "response_key",
                                    "predicted_response_key"),
    }


def merge_files(paths: Sequence[Path]) -> dict[str, Any]:
    return merge_shards([load_shard_report(path) for path in paths])
