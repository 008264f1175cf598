"""Pool shard reports into the cross-validation section a single-machine run writes.

The pooled report of a task is recomputed from all folds' test predictions with rasa's
arithmetic (classification.py), which is what rasa does with its folds' predictions in one
process. ``train``/``test`` are the mean and population standard deviation over the folds
of each fold's accuracy, weighted F1 and weighted precision, the numbers rasa logs (it
prints them to 3 decimals; here they keep full precision).

Entities: rasa scores entities per token, with the tokens of the model's own tokenizer,
which its result files do not record. So the pooled entity report (``pooled``) is left
``null``; the train/test mean ± std per extractor are exact.

Shards only pool when they are one split of the same data: the same seed, number of folds,
data fingerprint and config, and every fold exactly once.
"""

from __future__ import annotations

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
        help="Write the merged cross-validation section here. [default: standard output]")


METRICS = ("accuracy", "f1_score", "precision")
_MUST_AGREE = (("folds", "number of folds"), ("seed", "seed"),
               ("data_fingerprint", "training data"), ("config_sha256", "model configuration"))


def _disagreement(shards: Sequence[ShardReport], key: str, what: str) -> str | None:
    values: dict[Any, list[str]] = {}
    for shard in shards:
        values.setdefault(shard.identity(key), []).append(str(shard.path))
    if len(values) < 2:
        return None
    listed = "; ".join(f"{value!r}: {', '.join(paths)}" for value, paths in values.items())
    return f"the shards differ in their {what} ({key}: {listed})"


def check_compatible(shards: Sequence[ShardReport]) -> int:
    """The number of folds, once the shards are known to be one complete split."""
    if not shards:
        raise UsageError("No shard reports to merge. Pass the shard-report.json of every "
                         "shard: ci-toolkit merge shard-1/shard-report.json ...")
    for key, what in _MUST_AGREE:
        problem = _disagreement(shards, key, what)
        if problem:
            raise UsageError(f"These shards are not one cross-validation: {problem}. Run every "
                             "shard with the same data, config, --seed and N in --shard i/N.")
    folds = shards[0].identity("folds")
    seen: dict[int, list[str]] = {}
    for shard in shards:
        seen.setdefault(shard.fold, []).append(str(shard.path))
    twice = {fold: paths for fold, paths in seen.items() if len(paths) > 1}
    if twice:
        listed = "; ".join(f"fold {fold}: {', '.join(paths)}" for fold, paths in twice.items())
        raise UsageError(f"A fold was given more than once ({listed}). Pass each fold's "
                         "shard report once.")
    missing = sorted(set(range(1, folds + 1)) - set(seen))
    if missing:
        raise UsageError(f"The shards of fold(s) {', '.join(map(str, missing))} of {folds} are "
                         "missing. Pass every shard's report; a failed shard must be run again.")
    return int(folds)


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


def _entities(shards: Sequence[ShardReport]) -> dict[str, Any]:
    names = sorted({name for shard in shards for split in ("train", "test")
                    for name in (shard.metrics(split).get("entity_extraction") or {})})
    return {name: {"pooled": None,
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
