"""An N-fold split of the NLU data that is the same on every machine.

Algorithm (stable across machines, Python versions and the order of the data files):
1. the examples of each intent are sorted (nlu_data.py);
2. they are shuffled with ``random.Random(f"{seed}:{intent}").shuffle``: a string seed is
   hashed with SHA-512 by Python, so the order is the same everywhere, and one generator per
   intent means that adding an intent leaves every other intent's folds alone;
3. the same generator picks a starting fold, ``rng.randrange(folds)``, and the shuffled
   examples are dealt round-robin from there: example k goes to fold (start + k) mod N.

So every example is in exactly one test fold, each intent is spread evenly (fold sizes differ
by at most one per intent) and the extra examples do not all land in fold 1. Fold i's
training data is every other fold's examples plus all regex, lookup and synonym entries.

Folds are numbered 1..N, as a CI matrix numbers its shards.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ci_toolkit.crossval.nlu_data import NluData
from ci_toolkit.errors import UsageError

NLU_FORMAT_VERSION = "3.1"


@dataclass(frozen=True)
class Fold:
    index: int  # 1..folds
    folds: int
    train: dict[str, tuple[str, ...]]  # intent -> examples
    test: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class FoldFiles:
    train: Path
    test: Path


def check_fold(index: int, folds: int) -> None:
    if folds < 2:
        raise UsageError(f"Cross-validation needs at least 2 folds, not {folds}: with one "
                         "fold nothing is left to train on. Use --shard i/N with N >= 2.")
    if not 1 <= index <= folds:
        raise UsageError(f"Fold {index} does not exist in a {folds}-fold split: folds are "
                         f"numbered 1 to {folds}. Use --shard i/{folds} with 1 <= i <= {folds}.")


def _check_enough(data: NluData, folds: int) -> None:
    short = {intent: len(found) for intent, found in data.examples.items() if len(found) < folds}
    if short:
        listed = ", ".join(f"{intent!r} ({count})" for intent, count in short.items())
        raise UsageError(
            f"Intents with fewer examples than the {folds} folds: {listed}. Every fold's test "
            "data needs at least one example of each intent. rasa's own cross-validation would "
            "silently drop these intents from the evaluation; add examples, or use fewer folds.")


def assign_folds(examples: tuple[str, ...], *, intent: str, folds: int, seed: int
                 ) -> list[list[str]]:
    """The examples of one intent dealt over the folds (list index 0 is fold 1)."""
    rng = random.Random(f"{seed}:{intent}")
    order = list(examples)
    rng.shuffle(order)
    start = rng.randrange(folds)
    dealt: list[list[str]] = [[] for _ in range(folds)]
    for position, example in enumerate(order):
        dealt[(start + position) % folds].append(example)
    return dealt


def make_fold(data: NluData, *, index: int, folds: int, seed: int) -> Fold:
    """Fold ``index`` of ``folds``: its training and test examples, per intent."""
    check_fold(index, folds)
    _check_enough(data, folds)
    train: dict[str, tuple[str, ...]] = {}
    test: dict[str, tuple[str, ...]] = {}
    for intent, examples in data.examples.items():
        dealt = assign_folds(examples, intent=intent, folds=folds, seed=seed)
        test[intent] = tuple(sorted(dealt[index - 1]))
        train[intent] = tuple(sorted(e for i, part in enumerate(dealt, 1) if i != index
                                     for e in part))
    return Fold(index=index, folds=folds, train=train, test=test)


class _BlockDumper(yaml.SafeDumper):
    """Writes examples as an `examples: |` block, the way users write them."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_str)


def _intent_entries(examples: dict[str, tuple[str, ...]], data: NluData
                    ) -> list[dict[str, Any]]:
    entries = []
    for intent, found in examples.items():
        entry: dict[str, Any] = {"intent": intent}
        if intent in data.intent_metadata:
            entry["metadata"] = data.intent_metadata[intent]
        entry["examples"] = "".join(f"- {example}\n" for example in found)
        entries.append(entry)
    return entries


def fold_documents(fold: Fold, data: NluData) -> tuple[dict[str, Any], dict[str, Any]]:
    """The training and test data of a fold as rasa YAML documents."""
    train: dict[str, Any] = {"version": NLU_FORMAT_VERSION,
                             "nlu": [*_intent_entries(fold.train, data), *data.other_entries]}
    if data.responses:
        train["responses"] = data.responses
    test = {"version": NLU_FORMAT_VERSION, "nlu": _intent_entries(fold.test, data)}
    return train, test


def write_fold(fold: Fold, data: NluData, directory: Path) -> FoldFiles:
    """Write fold's train.yml and test.yml into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    files = FoldFiles(train=directory / "train.yml", test=directory / "test.yml")
    for path, document in zip((files.train, files.test), fold_documents(fold, data)):
        path.write_text(yaml.dump(document, Dumper=_BlockDumper, sort_keys=False,
                                  allow_unicode=True, width=10_000), encoding="utf-8")
    return files
