"""Shards pooled into the cross-validation section (ci_toolkit/crossval/merge.py), against a
section computed by hand, and every set of shards that does not fit together."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ci_toolkit.commands.crossval import merge
from ci_toolkit.crossval.merge import mean_std, merge_files
from ci_toolkit.errors import UsageError
from ci_toolkit.report.model import CrossValidation
from tests.unit.crossval import shards

# Gold: greet, goodbye, affirm. "affirm" is never predicted; "deny" is predicted, never gold.
FOLD_1 = [("greet", "greet"), ("greet", "greet"), ("goodbye", "goodbye"), ("affirm", "greet")]
FOLD_2 = [("greet", "greet"), ("goodbye", "deny"), ("goodbye", "goodbye"),
          ("affirm", "goodbye")]
TEST_1 = {"intent_classification": shards.metrics(0.75, 0.625, 0.5625)}
TEST_2 = {"intent_classification": shards.metrics(0.5, 0.375, 0.4375)}
TRAIN_1 = {"intent_classification": shards.metrics(1.0, 1.0, 1.0),
           "entity_extraction": {"DIETClassifier": shards.metrics(0.9, 0.5, 0.5)}}
TRAIN_2 = {"intent_classification": shards.metrics(0.5, 0.5, 0.5),
           "entity_extraction": {"DIETClassifier": shards.metrics(0.7, 0.25, 0.75)}}


def _row(precision: float, recall: float, f1: float, support: int,
         confused_with: dict[str, int]) -> dict[str, Any]:
    return {"precision": precision, "recall": recall, "f1_score": f1, "support": support,
            "confused_with": confused_with}


def _avg(precision: float, recall: float, f1: float, support: int) -> dict[str, Any]:
    return {"precision": precision, "recall": recall, "f1_score": f1, "support": support}


# By hand, over the 8 pooled predictions (5 right):
#   greet   tp 3, predicted 4, gold 3: P 3/4, R 1, F1 2·(3/4)·1/(7/4) = 6/7
#   goodbye tp 2, predicted 3, gold 3: P 2/3, R 2/3, F1 2/3; once taken for deny
#   affirm  tp 0, predicted 0, gold 2: P 0 (nothing predicted), R 0, F1 0
# "deny" has no row, so sklearn reports micro avg over the rows (5 right of the 7
# predictions of greet/goodbye/affirm; 5 of 8 gold) and rasa adds accuracy 5/8.
P, F = 2 / 3, 2 * (2 / 3) * (2 / 3) / (2 / 3 + 2 / 3)
POOLED = {
    "accuracy": 0.625,
    "labels": {
        "affirm": _row(0.0, 0.0, 0.0, 2, {"greet": 1, "goodbye": 1}),
        "goodbye": _row(P, P, F, 3, {"deny": 1}),
        "greet": _row(0.75, 1.0, 1.5 / 1.75, 3, {}),
    },
    "macro_avg": _avg((0.0 + P + 0.75) / 3, (0.0 + P + 1.0) / 3, (0.0 + F + 1.5 / 1.75) / 3, 8),
    "weighted_avg": _avg((0.0 * 2 + P * 3 + 0.75 * 3) / 8, (0.0 * 2 + P * 3 + 1.0 * 3) / 8,
                         (0.0 * 2 + F * 3 + 1.5 / 1.75 * 3) / 8, 8),
    "micro_avg": _avg(5 / 7, 0.625, 2 * (5 / 7) * 0.625 / (5 / 7 + 0.625), 8),
}
EXPECTED = {
    "folds": 2,
    "intent_classification": {
        "pooled": POOLED,
        "train": {"accuracy": {"mean": 0.75, "std": 0.25}, "f1_score": {"mean": 0.75, "std": 0.25},
                  "precision": {"mean": 0.75, "std": 0.25}},
        "test": {"accuracy": {"mean": 0.625, "std": 0.125}, "f1_score": {"mean": 0.5, "std": 0.125},
                 "precision": {"mean": 0.5, "std": 0.0625}},
    },
    "entity_extraction": {"DIETClassifier": {
        "pooled": None,
        "train": {"accuracy": {"mean": 0.8, "std": math.sqrt(0.1 ** 2 / 2 + 0.1 ** 2 / 2)},
                  "f1_score": {"mean": 0.375, "std": 0.125},
                  "precision": {"mean": 0.625, "std": 0.125}},
        "test": {}}},
    "response_selection": None,
}


def _pair(tmp_path: Path, **second: Any) -> list[Path]:
    return shards.write(tmp_path, shards.shard(1, FOLD_1, train=TRAIN_1, test=TEST_1),
                        shards.shard(2, FOLD_2, train=TRAIN_2, test=TEST_2, **second))


def test_the_merge_equals_the_section_computed_by_hand(tmp_path: Path) -> None:
    merged = merge_files(_pair(tmp_path))
    assert merged["intent_classification"]["pooled"] == POOLED  # exact, float for float
    assert merged["intent_classification"] == EXPECTED["intent_classification"]
    assert merged["entity_extraction"]["DIETClassifier"]["train"]["accuracy"] == \
        pytest.approx(EXPECTED["entity_extraction"]["DIETClassifier"]["train"]["accuracy"])
    assert merged["response_selection"] is None and merged["folds"] == 2
    assert CrossValidation.from_dict(merged).to_dict() == merged  # report.json's section


def test_the_order_of_the_shards_does_not_matter(tmp_path: Path) -> None:
    paths = _pair(tmp_path)
    assert merge_files(list(reversed(paths))) == merge_files(paths)


def test_response_selection_is_pooled_like_intents(tmp_path: Path) -> None:
    responses = [{"text": "t", "response_key": "faq/wifi", "predicted_response_key": "faq/wifi",
                  "confidence": 0.9},
                 {"text": "u", "response_key": "faq/hours", "predicted_response_key": "faq/wifi",
                  "confidence": 0.4}]
    merged = merge_files(_pair(tmp_path, responses=responses))
    pooled = merged["response_selection"]["pooled"]
    assert pooled["accuracy"] == 0.5
    assert pooled["labels"]["faq/hours"]["confused_with"] == {"faq/wifi": 1}
    assert merged["response_selection"]["test"] == {}  # no fold figures were recorded


def test_entities_are_pooled_from_the_token_labels_of_every_shard(tmp_path: Path) -> None:
    """Each shard's tokens as rasa scored them; pooled, they are one entity report with
    no_entity excluded (the arithmetic is test_classification's)."""
    first = shards.token_labels("DIETClassifier", ["no_entity", "city", "city"],
                                ["city", "city", "no_entity"])
    second = shards.token_labels("DIETClassifier", ["no_entity", "drink", "no_entity"],
                                 ["no_entity", "drink", "no_entity"])
    paths = shards.write(
        tmp_path, shards.shard(1, FOLD_1, train=TRAIN_1, entity_token_labels=first),
        shards.shard(2, FOLD_2, train=TRAIN_2, entity_token_labels=second))
    pooled = merge_files(paths)["entity_extraction"]["DIETClassifier"]["pooled"]
    assert pooled["accuracy"] == 4 / 6
    assert pooled["labels"] == {"city": _row(0.5, 0.5, 0.5, 2, {}),
                                "drink": _row(1.0, 1.0, 1.0, 1, {})}
    assert pooled["micro_avg"] == _avg(2 / 3, 2 / 3, 2 / 3, 3)

    # A shard that ran outside the model evaluator recorded no labels: nothing is pooled.
    paths = shards.write(
        tmp_path / "partial", shards.shard(1, FOLD_1, train=TRAIN_1, entity_token_labels=first),
        shards.shard(2, FOLD_2, train=TRAIN_2))
    assert merge_files(paths)["entity_extraction"]["DIETClassifier"]["pooled"] is None


@pytest.mark.parametrize("recorded", [
    {"extractors": {}},                                       # no "no_entity"
    {"no_entity": "O", "extractors": {"DIET": {"targets": ["a"], "predictions": []}}},
    {"no_entity": "O", "extractors": {"DIET": {"targets": [1], "predictions": ["a"]}}},
    {"no_entity": "O", "extractors": {"DIET": "labels"}},
])
def test_malformed_token_labels_are_named(tmp_path: Path, recorded: dict[str, Any]) -> None:
    paths = shards.write(tmp_path, shards.shard(1, FOLD_1, entity_token_labels=recorded),
                         shards.shard(2, FOLD_2))
    with pytest.raises(UsageError, match=r"predictions\.entity_token_labels"):
        merge_files(paths)


def test_mean_std_is_the_population_deviation() -> None:
    assert mean_std([1.0, 2.0, 3.0, 4.0]) == {"mean": 2.5, "std": math.sqrt(1.25)}
    assert mean_std([0.5]) == {"mean": 0.5, "std": 0.0}


@pytest.mark.parametrize("second, says", [
    ({"seed": 1}, "differ in their seed"),
    ({"folds": 3}, "differ in their number of folds"),
    ({"fingerprint": "data-2"}, "differ in their training data"),
    ({"config": "config-2"}, "differ in their model configuration"),
])
def test_shards_of_different_splits_are_refused(tmp_path: Path, second: dict[str, Any],
                                                 says: str) -> None:
    with pytest.raises(UsageError, match=says) as caught:
        merge_files(_pair(tmp_path, **second))
    assert "shard-0" in str(caught.value) and "shard-1" in str(caught.value)


def test_a_missing_fold_is_named(tmp_path: Path) -> None:
    paths = shards.write(tmp_path, shards.shard(2, FOLD_2, folds=3),
                         shards.shard(3, FOLD_1, folds=3))
    with pytest.raises(UsageError, match=r"fold\(s\) 1 of 3 are missing"):
        merge_files(paths)


def test_a_fold_given_twice_is_named(tmp_path: Path) -> None:
    paths = shards.write(tmp_path, shards.shard(1, FOLD_1), shards.shard(1, FOLD_2),
                         shards.shard(2, FOLD_2))
    with pytest.raises(UsageError, match=r"fold 1: .*shard-0.*shard-1"):
        merge_files(paths)


def test_no_shards_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="No shard reports"):
        merge_files([])


def test_the_merge_command_writes_the_section(tmp_path: Path) -> None:
    out = tmp_path / "out" / "cross-validation.json"
    done = CliRunner().invoke(merge, [*map(str, _pair(tmp_path)), "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert json.loads(out.read_text())["intent_classification"]["pooled"] == POOLED
    printed = CliRunner().invoke(merge, list(map(str, _pair(tmp_path / "again"))))
    assert json.loads(printed.stdout)["folds"] == 2


def test_the_merge_command_refuses_a_bad_file_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    done = CliRunner().invoke(merge, [str(bad)])
    assert isinstance(done.exception, UsageError) and done.exception.exit_code == 2
