"""The data of one comparison run, the same on every machine: the run's 80/20 split and, for
each exclusion percentage, the part of the run's training split a model trains on.

rasa's `rasa test nlu --config A B --runs R` draws each run's split with an unseeded
generator, so two machines never agree; a comparison shard (one config, one run) must train
on exactly the data every other config of that run trains on. So the toolkit draws it
itself, as crossval/split.py does for folds:

1. intents with fewer than ``MIN_EXAMPLES`` examples are left out, as rasa does
   (rasa/nlu/test.py ``drop_intents_below_freq``);
2. each intent's sorted examples are shuffled with ``random.Random(f"{seed}:run-{r}:{intent}")``
   (a string seed is hashed with SHA-512: the same everywhere); the first 20% (at least one,
   leaving at least one) is the run's test set;
3. at exclusion percentage p, the run's training examples of an intent are shuffled again with
   ``random.Random(f"{seed}:run-{r}:{p}%:{intent}")`` and p% of them (rounded down, always
   leaving one) are left out.

The config takes no part in any seed, so every config of a run sees the same data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ci_toolkit.crossval.nlu_data import NluData
from ci_toolkit.crossval.split import Fold
from ci_toolkit.errors import UsageError

MIN_EXAMPLES = 5  # rasa's compare_nlu_models cutoff
TEST_SHARE = 0.2


@dataclass(frozen=True)
class RunSplit:
    run: int  # 1..runs
    train: dict[str, tuple[str, ...]]
    test: dict[str, tuple[str, ...]]


def usable_intents(data: NluData) -> dict[str, tuple[str, ...]]:
    """The intents rasa's comparison keeps: those with at least MIN_EXAMPLES examples."""
    kept = {intent: found for intent, found in data.examples.items()
            if len(found) >= MIN_EXAMPLES}
    if len(kept) < 2:
        raise UsageError(
            f"A comparison needs at least two intents with {MIN_EXAMPLES} or more examples "
            f"(rasa leaves out intents with fewer), but only {len(kept)} of "
            f"{len(data.examples)} intents have that many. Add examples.")
    return kept


def _shuffled(examples: tuple[str, ...], key: str) -> list[str]:
    order = sorted(examples)
    random.Random(key).shuffle(order)
    return order


def run_split(data: NluData, *, run: int, seed: int) -> RunSplit:
    """Run ``run``'s training and test examples per intent."""
    train: dict[str, tuple[str, ...]] = {}
    test: dict[str, tuple[str, ...]] = {}
    for intent, examples in usable_intents(data).items():
        order = _shuffled(examples, f"{seed}:run-{run}:{intent}")
        count = min(len(order) - 1, max(1, int(len(order) * TEST_SHARE)))
        test[intent] = tuple(sorted(order[:count]))
        train[intent] = tuple(sorted(order[count:]))
    return RunSplit(run=run, train=train, test=test)


def excluded(split: RunSplit, *, percentage: int, seed: int) -> dict[str, tuple[str, ...]]:
    """The run's training examples left after excluding ``percentage``% of each intent's."""
    kept: dict[str, tuple[str, ...]] = {}
    for intent, examples in split.train.items():
        order = _shuffled(examples, f"{seed}:run-{split.run}:{percentage}%:{intent}")
        drop = min(len(order) - 1, len(order) * percentage // 100)
        kept[intent] = tuple(sorted(order[drop:]))
    return kept


def training_fold(split: RunSplit, *, percentage: int, seed: int, runs: int) -> Fold:
    """The data of one model as a Fold, so crossval/split.py's write_fold writes it (the
    training data with every regex, lookup and synonym entry; the run's test set)."""
    return Fold(index=split.run, folds=runs,
                train=excluded(split, percentage=percentage, seed=seed), test=split.test)
