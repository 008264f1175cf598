"""The sharded cross-validation benchmark's arithmetic (a matrix waits for its slowest shard,
then merges) and its section of RESULTS.md, which replaces only itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.sharded_cv_report import (
    HEADING,
    render_section,
    replace_section,
    run_figures,
    section,
    summary,
)


def _run(one_wall: float, shard_walls: list[float], merge_wall: float = 5.0) -> dict[str, Any]:
    return {"one_process": {"wall_s": one_wall, "cpu_s": 2 * one_wall, "intent_f1": 0.91,
                            "intent_accuracy": 0.92},
            "shards": [{"fold": index + 1, "wall_s": wall, "cpu_s": wall + 10.0}
                       for index, wall in enumerate(shard_walls)],
            "merge": {"wall_s": merge_wall, "cpu_s": 1.0, "intent_f1": 0.89,
                      "intent_accuracy": 0.9}}


def _record(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"date": "2026-12-01 18:00", "commit": "abc1234", "machine": "2 cores",
            "load_average": 1.5, "runs": runs, "summary": summary(runs),
            "parameters": {"intents": 200, "examples": 10, "nlu_examples": 2010, "seed": 7,
                           "epochs": 10, "folds": len(runs[0]["shards"]), "split_seed": 0,
                           "train_metrics": True, "repeats": len(runs)}}


def test_the_critical_path_is_the_slowest_shard_plus_the_merge() -> None:
    figures = run_figures(_run(450.0, [100.0, 130.0, 120.0], merge_wall=5.0))
    assert figures["slowest_fold"] == 2
    assert figures["critical_path_s"] == 135.0
    assert figures["ratio"] == pytest.approx(0.3)
    assert figures["goal_met"]  # the goal is at most 0.3, so 0.3 itself meets it
    assert figures["shards_wall_sum_s"] == 350.0
    assert figures["shards_cpu_s"] == 380.0  # each shard's wall + 10
    assert figures["cpu_ratio"] == pytest.approx(380.0 / 900.0)


def test_a_critical_path_above_the_goal_is_not_met() -> None:
    figures = run_figures(_run(400.0, [100.0, 140.0], merge_wall=10.0))
    assert figures["ratio"] == pytest.approx(0.375)
    assert not figures["goal_met"]


def test_the_summary_takes_the_median_of_the_repeats() -> None:
    runs = [_run(400.0, [100.0, 110.0]), _run(500.0, [90.0, 200.0]),
            _run(450.0, [100.0, 120.0])]
    figures = summary(runs)
    assert figures["critical_path_s"] == 125.0  # of 115, 205 and 125
    assert figures["ratio"] == pytest.approx(115.0 / 400.0)  # of 0.2875, 0.41 and 0.2778
    assert figures["slowest_folds"] == [2, 2, 2]
    assert figures["goal_met"]


def test_the_section_shows_every_run_and_the_verdict() -> None:
    lines = render_section(_record([_run(450.0, [100.0, 130.0, 120.0])]))
    assert lines[0] == HEADING
    assert "| one process: `rasa test nlu --cross-validation --folds 3` | 450.0 | 900.0 |" in lines
    assert "| shard 2/3 alone | 130.0 | 140.0 |" in lines
    assert "| all 3 shards together (one after the other) | 350.0 | 380.0 |" in lines
    assert "| `ci-toolkit merge --report` | 5.0 | 1.0 |" in lines
    assert "| critical path of a matrix: slowest shard + merge | 135.0 |  |" in lines
    text = "\n".join(lines)
    assert "0.30 of the one-process wall time, 450.0 s" in text
    assert "**met**" in text
    assert "0.890 merged from the shards, 0.910 in rasa's own" in text


def test_several_repeats_list_each_value_after_the_median() -> None:
    record = _record([_run(400.0, [100.0, 110.0]), _run(500.0, [90.0, 200.0])])
    lines = render_section(record)
    assert "| shard 2/2 alone | 155.0 (110.0, 200.0) | 165.0 (120.0, 210.0) |" in lines
    assert "**not met**" in "\n".join(lines)  # the median ratio is (0.2875 + 0.41) / 2


OTHERS = ("# Benchmark results\n\nIntro.\n\n## example\n\n| a |\n|---|\n\n### sub\n\ntext\n\n",
          "## Action-server contract tests\n\nkept   \n\n\n")


def test_the_section_is_added_at_the_end_and_then_replaced_in_place() -> None:
    before, after = OTHERS
    first = replace_section(before + after, [HEADING, "", "first run", ""])
    assert first == before + after + HEADING + "\n\nfirst run\n"
    second = replace_section(first, [HEADING, "", "second run", ""])
    assert second == before + after + HEADING + "\n\nsecond run\n"


def test_a_section_in_the_middle_is_replaced_and_the_others_keep_their_bytes() -> None:
    before, after = OTHERS
    text = before + HEADING + "\n\nold figures\n\n### old sub-heading\n\nold\n\n" + after
    replaced = replace_section(text, [HEADING, "", "new figures", ""])
    assert replaced == before + HEADING + "\n\nnew figures\n\n" + after
    # A heading that only starts with this one's text is another section.
    other = "## Sharded cross-validation of comparisons\n\nkept\n"
    assert replace_section(other, [HEADING, "", "x"]) == other + "\n" + HEADING + "\n\nx\n"


def test_an_empty_or_missing_file_gets_the_section_alone(tmp_path: Path) -> None:
    assert replace_section("", [HEADING, "", "x", ""]) == HEADING + "\n\nx\n"
    assert section(tmp_path / "missing.json") == []


def test_the_section_of_a_results_file_is_that_of_its_latest_run(tmp_path: Path) -> None:
    results = tmp_path / "results-sharded-cv.json"
    old, new = _record([_run(900.0, [300.0, 310.0])]), _record([_run(450.0, [100.0, 120.0])])
    results.write_text(json.dumps([old, new]))
    assert section(results) == render_section(new)
