"""Each run's data of a sharded comparison (ci_toolkit/compare/split.py): the same on every
machine and for every config, stratified, and the exclusions nested in the run's split."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ci_toolkit.compare.split import excluded, run_split, training_fold, usable_intents
from ci_toolkit.crossval.nlu_data import NluData, read_nlu_data
from ci_toolkit.crossval.split import write_fold
from ci_toolkit.errors import UsageError
from tests.paths import EXAMPLE


def _data(**counts: int) -> NluData:
    return NluData(examples={intent: tuple(f"{intent} {n}" for n in range(count))
                             for intent, count in counts.items()})


def test_a_run_split_is_stratified_and_covers_every_example_once() -> None:
    data = _data(greet=10, bye=7, ask=5)
    split = run_split(data, run=1, seed=0)
    assert {intent: len(found) for intent, found in split.test.items()} == \
        {"greet": 2, "bye": 1, "ask": 1}  # 20%, rounded down, at least one
    for intent, examples in data.examples.items():
        assert sorted(split.train[intent] + split.test[intent]) == sorted(examples)
        assert not set(split.train[intent]) & set(split.test[intent])


def test_the_split_depends_on_seed_and_run_only() -> None:
    data = _data(greet=20, bye=20)
    assert run_split(data, run=2, seed=3) == run_split(data, run=2, seed=3)
    assert run_split(data, run=1, seed=3).test != run_split(data, run=2, seed=3).test
    assert run_split(data, run=1, seed=3).test != run_split(data, run=1, seed=4).test


def test_intents_with_fewer_than_five_examples_are_left_out_as_rasa_does() -> None:
    assert set(usable_intents(_data(greet=5, bye=5, rare=4))) == {"greet", "bye"}
    with pytest.raises(UsageError, match="only 1 of 2 intents"):
        usable_intents(_data(greet=5, rare=4))


@pytest.mark.parametrize(("percentage", "kept"), [(0, 16), (25, 12), (50, 8), (99, 1)])
def test_an_exclusion_leaves_the_rest_of_the_runs_training_split(percentage: int,
                                                                 kept: int) -> None:
    split = run_split(_data(greet=20, bye=20), run=1, seed=0)
    left = excluded(split, percentage=percentage, seed=0)
    assert {intent: len(found) for intent, found in left.items()} == {"greet": kept, "bye": kept}
    assert all(set(left[intent]) <= set(split.train[intent]) for intent in left)


def test_the_models_data_is_written_as_rasa_yaml_with_the_runs_test_set(tmp_path: Path) -> None:
    data = read_nlu_data([EXAMPLE / "data"])
    split = run_split(data, run=1, seed=0)
    fold = training_fold(split, percentage=50, seed=0, runs=2)
    files = write_fold(fold, data, tmp_path)
    test = yaml.safe_load(files.test.read_text())
    train = yaml.safe_load(files.train.read_text())
    assert {entry["intent"] for entry in test["nlu"]} == set(split.test)
    assert any("synonym" in entry or "regex" in entry or "lookup" in entry
               for entry in train["nlu"]) == bool(data.other_entries)
