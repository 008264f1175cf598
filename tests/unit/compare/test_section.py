"""The comparison section (ci_toolkit/compare/section.py): mean ± std over runs per config
and amount of training data, and the winner with its margin, checked against numbers
worked out by hand."""

from __future__ import annotations

import math

import pytest

from ci_toolkit.compare.section import build_section, summary, winner


def _runs(*per_run: tuple[float, float]) -> list[list[dict]]:
    """Runs of (F1 at exclusion 0, F1 at exclusion 50)."""
    return [[{"intent_f1": at_0}, {"intent_f1": at_50}] for at_0, at_50 in per_run]


def test_mean_and_population_std_by_hand() -> None:
    # mean (0.6 + 0.8) / 2 = 0.7; std sqrt(((0.1)^2 + (0.1)^2) / 2) = 0.1 (numpy's ddof=0).
    got = summary([0.6, 0.8])
    assert got["mean"] == pytest.approx(0.7)
    assert got["std"] == pytest.approx(0.1)
    assert got["runs"] == [0.6, 0.8]
    three = summary([1.0, 2.0, 4.0])  # mean 7/3; variance (16 + 1 + 25) / 9 / 3 = 14/9
    assert three["std"] == pytest.approx(math.sqrt(14 / 9))


def test_points_run_from_the_most_training_data_to_the_least() -> None:
    section = build_section("nlu", {"a": _runs((0.9, 0.5), (0.7, 0.3)),
                                    "b": _runs((0.6, 0.6), (0.6, 0.6))},
                            files={"a": "a.yml", "b": "conf/b.yml"}, runs=2,
                            percentages=[50, 0], rasa_version="3.6.21")
    [a, b] = section["configs"]
    assert [p["exclusion_percentage"] for p in a["points"]] == [0, 50]
    assert [p["training_data_percentage"] for p in a["points"]] == [100, 50]
    # --percentages 50 0: the first number of each run is at exclusion 50.
    assert a["points"][0]["intent_f1"]["mean"] == pytest.approx((0.5 + 0.3) / 2)
    assert a["points"][1]["intent_f1"]["mean"] == pytest.approx((0.9 + 0.7) / 2)
    assert b["file"] == "conf/b.yml"
    assert section["exclusion_percentages"] == [50, 0]
    assert section["kind"] == "nlu" and section["metric"] == "intent_f1"


def test_the_winner_has_the_highest_mean_at_the_most_data_and_its_margin() -> None:
    # At exclusion 0: a = (0.9 + 0.7) / 2 = 0.8, b = 0.6, c = (0.75 + 0.75) / 2 = 0.75.
    # At exclusion 50 b leads, which does not count.
    section = build_section("nlu", {"a": _runs((0.9, 0.1), (0.7, 0.1)),
                                    "b": _runs((0.6, 0.9), (0.6, 0.9)),
                                    "c": _runs((0.75, 0.2), (0.75, 0.2))},
                            files={"a": "a.yml", "b": "b.yml", "c": "c.yml"}, runs=2,
                            percentages=[0, 50], rasa_version=None)
    won = section["winner"]
    assert won["config"] == "a" and won["runner_up"] == "c"
    assert won["mean"] == pytest.approx(0.8)
    assert won["runner_up_mean"] == pytest.approx(0.75)
    assert won["margin"] == pytest.approx(0.05)
    assert won["training_data_percentage"] == 100 and won["tied"] == []


def test_a_tie_has_no_winner() -> None:
    section = build_section("nlu", {"a": _runs((0.8, 0.1)), "b": _runs((0.8, 0.5))},
                            files={"a": "a.yml", "b": "b.yml"}, runs=1, percentages=[0, 50],
                            rasa_version=None)
    won = section["winner"]
    assert won["config"] is None and won["runner_up"] is None
    assert sorted(won["tied"]) == ["a", "b"] and won["margin"] == 0


def test_without_exclusion_0_the_winner_is_decided_at_the_most_data_compared() -> None:
    won = winner([{"name": "a", "points": [{"exclusion_percentage": 25,
                                            "training_data_percentage": 75,
                                            "intent_f1": {"mean": 0.5}}]},
                  {"name": "b", "points": [{"exclusion_percentage": 25,
                                            "training_data_percentage": 75,
                                            "intent_f1": {"mean": 0.4}}]}], "intent_f1")
    assert won["training_data_percentage"] == 75 and won["config"] == "a"


def test_entity_f1_is_summarised_per_extractor_and_null_without_one() -> None:
    runs = [[{"intent_f1": 0.5, "entity_f1": {"CRFEntityExtractor": 0.4}}],
            [{"intent_f1": 0.7, "entity_f1": {"CRFEntityExtractor": 0.6}}]]
    plain = [[{"intent_f1": 0.5, "entity_f1": None}], [{"intent_f1": 0.5, "entity_f1": None}]]
    section = build_section("nlu", {"a": runs, "b": plain}, files={"a": "a", "b": "b"},
                            runs=2, percentages=[0], rasa_version=None)
    [a, b] = section["configs"]
    assert a["points"][0]["entity_f1"]["CRFEntityExtractor"]["mean"] == pytest.approx(0.5)
    assert a["points"][0]["entity_f1"]["CRFEntityExtractor"]["std"] == pytest.approx(0.1)
    assert b["points"][0]["entity_f1"] is None


def test_a_core_comparison_is_won_on_the_share_of_correct_stories() -> None:
    runs = {"memo": [[{"correct_stories": 6, "story_accuracy": 1.0}]],
            "rules": [[{"correct_stories": 5, "story_accuracy": 5 / 6}]]}
    section = build_section("core", runs, files={"memo": "memo.yml", "rules": "rules.yml"},
                            runs=1, percentages=[0], rasa_version=None)
    assert section["metric"] == "story_accuracy"
    assert section["winner"]["config"] == "memo"
    assert section["winner"]["margin"] == pytest.approx(1 / 6)
