"""rasa's classification report, recomputed without sklearn
(ci_toolkit/crossval/classification.py), against reports computed by hand."""

from __future__ import annotations

import pytest

from ci_toolkit.crossval.classification import classification_report, fold_metrics, numpy_sum


def test_all_labels_gold_gives_accuracy_as_micro_average() -> None:
    report = classification_report(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    assert report == {
        # a: 1 of 1 predicted right, 1 of 2 found; b: 2 of 3 predicted right, 2 of 2 found.
        "a": {"precision": 1.0, "recall": 0.5, "f1-score": 2 / 3, "support": 2,
              "confused_with": {"b": 1}},
        "b": {"precision": 2 / 3, "recall": 1.0, "f1-score": 0.8, "support": 2,
              "confused_with": {}},
        "accuracy": 0.75,
        "macro avg": {"precision": (1.0 + 2 / 3) / 2, "recall": 0.75,
                      "f1-score": (2 / 3 + 0.8) / 2, "support": 4},
        "weighted avg": {"precision": (1.0 * 2 + 2 / 3 * 2) / 4, "recall": 0.75,
                         "f1-score": (2 / 3 * 2 + 0.8 * 2) / 4, "support": 4},
        "micro avg": {"precision": 0.75, "recall": 0.75, "f1-score": 0.75, "support": 4},
    }


def test_a_label_only_predicted_has_no_row_and_makes_a_real_micro_average() -> None:
    report = classification_report(["a", "a", "b"], ["a", "x", "x"])
    assert set(report) == {"a", "b", "accuracy", "macro avg", "weighted avg", "micro avg"}
    assert report["b"] == {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 1,
                           "confused_with": {"x": 1}}
    # micro over the rows only: 1 right of the 1 predictions of a or b, 1 of 3 gold.
    assert report["micro avg"] == {"precision": 1.0, "recall": 1 / 3, "f1-score": 0.5,
                                   "support": 3}
    assert report["accuracy"] == 1 / 3


def test_an_entity_report_excludes_no_entity_but_counts_its_tokens() -> None:
    """Per-token entity labels, as rasa scores an extractor: "no_entity" (O) has no row and
    is never a confusion, but its tokens count in accuracy, and a city predicted on an O
    token counts against the city's precision."""
    targets = ["no_entity", "city", "city", "no_entity", "drink", "no_entity"]
    predictions = ["city", "city", "no_entity", "no_entity", "drink", "no_entity"]
    report = classification_report(targets, predictions, exclude_label="no_entity")
    assert set(report) == {"city", "drink", "accuracy", "macro avg", "weighted avg",
                           "micro avg"}
    # city: 1 right of 2 predicted, 1 of 2 found; its miss went to no_entity, not named.
    assert report["city"] == {"precision": 0.5, "recall": 0.5, "f1-score": 0.5, "support": 2,
                              "confused_with": {}}
    assert report["drink"] == {"precision": 1.0, "recall": 1.0, "f1-score": 1.0,
                               "support": 1, "confused_with": {}}
    # micro over the rows: 2 right of the 3 city/drink predictions, 2 of 3 gold.
    assert report["micro avg"] == {"precision": 2 / 3, "recall": 2 / 3, "f1-score": 2 / 3,
                                   "support": 3}
    assert report["accuracy"] == 4 / 6  # every token, no_entity included
    assert report["macro avg"]["f1-score"] == 0.75
    assert report["weighted avg"]["f1-score"] == (0.5 * 2 + 1.0) / 3


def test_confused_with_names_at_most_the_top_candidates_of_the_row() -> None:
    targets = ["a"] * 6
    predictions = ["b", "b", "c", "d", "e", "a"]
    # The row: a 1, b 2, c 1, d 1, e 1; the top three are b, then e and d (ties go to the
    # later label, as numpy's stable argsort leaves them) and a itself is skipped.
    assert classification_report(targets, predictions)["a"]["confused_with"] == \
        {"b": 2, "e": 1, "d": 1}


def test_no_labels_gives_rasas_empty_report() -> None:
    assert classification_report([], []) == {}


def test_mismatched_lengths_are_a_bug() -> None:
    with pytest.raises(ValueError):
        classification_report(["a"], [])


def test_numpy_sum_follows_numpys_pairwise_order() -> None:
    # Nine values: numpy adds the first eight in pairs and the ninth at the end, which
    # differs from a left-to-right sum in the last bit.
    values = [0.1] * 9
    assert numpy_sum(values) == (((0.1 + 0.1) + (0.1 + 0.1)) + ((0.1 + 0.1) + (0.1 + 0.1))) + 0.1
    assert numpy_sum(values) != sum(values)
    assert numpy_sum([0.1, 0.2, 0.3]) == 0.1 + 0.2 + 0.3
    assert numpy_sum([]) == 0.0


def test_fold_metrics_are_accuracy_and_the_weighted_averages() -> None:
    report = classification_report(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    assert fold_metrics(report) == {"accuracy": 0.75,
                                    "f1_score": report["weighted avg"]["f1-score"],
                                    "precision": report["weighted avg"]["precision"]}
