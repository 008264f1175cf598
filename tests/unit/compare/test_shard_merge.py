"""`ci-toolkit merge` of comparison shards (ci_toolkit/compare/merge.py,
ci_toolkit/crossval/any_shards.py): the section a one-machine comparison writes, computed by
hand here, and every way a set of shards can fail to be one comparison."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ci_toolkit.commands.crossval import merge
from ci_toolkit.compare.request import check_shard
from ci_toolkit.compare.section import build_section
from ci_toolkit.crossval.any_shards import COMPARISON, merge_shard_files
from ci_toolkit.errors import UsageError
from ci_toolkit.report.load import load_report
from tests.unit.compare.shards import measurement, shard, write
from tests.unit.crossval import shards as crossval_shards


def _four() -> list[dict[str, Any]]:
    return [shard(1, [measurement(0, 0.9, entity=0.5), measurement(50, 0.7, entity=0.3)]),
            shard(2, [measurement(0, 0.8, entity=0.7), measurement(50, 0.5, entity=0.5)]),
            shard(3, [measurement(0, 0.6), measurement(50, 0.4, examples=20)]),
            shard(4, [measurement(0, 0.8), measurement(50, 0.6, examples=20)])]


def test_shards_merge_into_the_comparison_section(tmp_path: Path) -> None:
    merged = merge_shard_files(write(tmp_path, *reversed(_four())))
    assert merged.kind == COMPARISON and merged.shards == 4
    section = merged.section
    assert (section["kind"], section["runs"], section["exclusion_percentages"]) == \
        ("nlu", 2, [0, 50])
    light, chars = section["configs"]
    assert (light["name"], light["file"]) == ("light", "configs/light.yml")
    full, half = light["points"]
    assert full["training_data_percentage"] == 100 and half["training_data_percentage"] == 50
    assert full["intent_f1"]["mean"] == pytest.approx(0.85)
    assert full["intent_f1"]["std"] == pytest.approx(0.05)
    assert full["intent_f1"]["runs"] == [0.9, 0.8]  # in run order, whatever the file order
    assert full["entity_f1"]["CRFEntityExtractor"]["mean"] == pytest.approx(0.6)
    assert full["entity_f1"]["CRFEntityExtractor"]["std"] == pytest.approx(0.1)
    assert half["intent_f1"]["mean"] == pytest.approx(0.6)
    assert chars["points"][0]["entity_f1"] is None
    assert chars["points"][1]["training_examples"]["mean"] == 20.0
    winner = section["winner"]
    assert (winner["config"], winner["runner_up"]) == ("light", "chars")
    assert winner["mean"] == pytest.approx(0.85) and winner["margin"] == pytest.approx(0.15)


@pytest.mark.parametrize(("change", "says"), [
    (lambda s: s[:3], r"shard\(s\) 4 of 4 are missing"),
    (lambda s: [*s, s[0]], "A shard was given more than once"),
    (lambda s: [s[0], {**s[1], "seed": 7}, *s[2:]], "differ in their seed"),
    (lambda s: [s[0], {**s[1], "data_fingerprint": "other"}, *s[2:]], "training data"),
    (lambda s: [s[0], {**s[1], "configs": list(reversed(s[1]["configs"]))}, *s[2:]],
     "configurations"),
    (lambda s: [s[0], {**s[1], "run": 1}, *s[2:]], "Do not rename shard reports"),
])
def test_shards_that_are_not_one_comparison_are_refused(tmp_path: Path, change: Any,
                                                       says: str) -> None:
    with pytest.raises(UsageError, match=says):
        merge_shard_files(write(tmp_path, *change(_four())))


def test_a_mix_of_comparison_and_cross_validation_shards_is_refused(tmp_path: Path) -> None:
    paths = write(tmp_path / "a", *_four()) + crossval_shards.write(
        tmp_path / "b", crossval_shards.shard(1, [("greet", "greet")]))
    with pytest.raises(UsageError, match="mix a cross-validation and a comparison") as error:
        merge_shard_files(paths)
    assert str(paths[-1]) in error.value.message


def _core(index: int, correct: list[int]) -> dict[str, Any]:
    """A policy comparison shard: the stand-in numbers of fixtures/core (6 test stories, 12
    and 6 training stories at 0 and 50 % exclusion)."""
    configs = [{"name": "memo", "file": "memo.yml", "sha256": "a" * 64},
               {"name": "rules", "file": "rules.yml", "sha256": "b" * 64}]
    found = [{"exclusion_percentage": percentage, "correct_stories": count,
              "story_accuracy": count / 6, "training_stories": stories}
             for percentage, count, stories in zip((0, 50), correct, (12, 6), strict=True)]
    return shard(index, found, configs=configs, kind="core")


def test_core_shards_merge_into_the_section_of_a_one_machine_comparison(
        tmp_path: Path) -> None:
    runs = {"memo": [[6, 3], [6, 2]], "rules": [[5, 2], [5, 4]]}
    shards = [_core(1, runs["memo"][0]), _core(2, runs["memo"][1]),
              _core(3, runs["rules"][0]), _core(4, runs["rules"][1])]
    merged = merge_shard_files(write(tmp_path, *reversed(shards))).section
    one_machine = build_section(
        "core", {name: [[{"correct_stories": count, "story_accuracy": count / 6,
                          "training_stories": stories}
                         for count, stories in zip(run, (12, 6), strict=True)]
                        for run in found] for name, found in runs.items()},
        files={"memo": "memo.yml", "rules": "rules.yml"}, runs=2, percentages=[0, 50],
        rasa_version="3.6.21")
    assert merged == one_machine
    assert merged["winner"]["config"] == "memo"


def test_a_core_shard_without_its_correct_stories_is_named(tmp_path: Path) -> None:
    broken = _core(1, [6, 3])
    del broken["measurements"][1]["correct_stories"]
    with pytest.raises(UsageError, match=r"measurements\[1\]\.correct_stories is missing"):
        merge_shard_files(write(tmp_path, broken, _core(2, [6, 2]), _core(3, [5, 2]),
                                _core(4, [5, 4])))


def test_a_file_that_is_no_shard_report_is_named(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"schema_version": 2}))
    with pytest.raises(UsageError, match="is not a shard report"):
        merge_shard_files([path])


def test_a_truncated_measurement_list_is_named(tmp_path: Path) -> None:
    broken = _four()
    broken[2]["measurements"] = broken[2]["measurements"][:1]
    with pytest.raises(UsageError, match="measurements is not a list of 2"):
        merge_shard_files(write(tmp_path, *broken))


@pytest.mark.parametrize(("text", "says"), [
    ("1/3", "2 configs with --runs 2 has 2 x 2 = 4 shards"), ("5/4", "numbered 1 to 4"),
    ("a/4", "form i/N")])
def test_a_wrong_shard_is_a_usage_error(text: str, says: str) -> None:
    with pytest.raises(UsageError, match=says):
        check_shard(text, configs=2, runs=2)


def test_shard_numbers_go_config_by_config() -> None:
    found = [(s.config, s.run) for s in (check_shard(f"{i}/6", configs=3, runs=2)
                                         for i in range(1, 7))]
    assert found == [(0, 1), (0, 2), (1, 1), (1, 2), (2, 1), (2, 2)]


def test_merge_writes_the_section_and_a_complete_report(tmp_path: Path) -> None:
    paths = write(tmp_path / "shards", *_four())
    report, out = tmp_path / "reports" / "report.json", tmp_path / "comparison.json"
    done = CliRunner().invoke(merge, [*map(str, paths), "--report", str(report), "--out",
                                      str(out), "--rasa", str(tmp_path / "no-rasa")])
    assert done.exit_code == 0, done.output
    assert "light wins" in done.output
    loaded = load_report(report)  # validated against the schema
    assert loaded.comparison is not None and loaded.comparison.winner is not None
    assert loaded.comparison.winner.config == "light"
    assert loaded.comparison.plot is None  # no rasa here to draw it
    assert loaded.cross_validation is None and loaded.passed
    assert json.loads(out.read_text())["winner"]["config"] == "light"
    assert (report.parent / "comparison.md").is_file()
