"""Reading rasa's policy comparison (ci_toolkit/compare/core_files.py) on the files of a real
`rasa train core --config memo.yml rules.yml --runs 2 --percentages 0 50` and `rasa test
core --evaluate-model-directory` on the example's 6 test stories (fixtures/core)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ci_toolkit.compare.core_files import (
    count_test_stories,
    missing_models,
    rasa_order,
    read_core_comparison,
)
from ci_toolkit.errors import ToolkitError

CORE = Path(__file__).parent / "fixtures" / "core"


def _read(models: Path = CORE / "models", out: Path = CORE / "out",
          percentages: list[int] | None = None) -> dict:
    return read_core_comparison(models, out, ["memo", "rules"], runs=2,
                                percentages=percentages or [0, 50], test_stories=6)


def test_correct_stories_and_their_share_per_run_and_percentage() -> None:
    found = _read()
    raw = json.loads((CORE / "out" / "results.json").read_text())
    assert [[m["correct_stories"] for m in run] for run in found["rules"]] == raw["rules"]
    assert found["memo"][1] == [
        {"correct_stories": 6, "story_accuracy": 1.0, "training_stories": 12},
        {"correct_stories": 2, "story_accuracy": 2 / 6, "training_stories": 6}]


def test_rasa_tests_a_runs_models_in_the_order_of_their_file_names() -> None:
    assert rasa_order([0, 5, 10, 50]) == [0, 10, 5, 50]


def test_results_in_file_name_order_are_put_back_in_the_order_given(tmp_path: Path) -> None:
    # Given --percentages 50 0, rasa still tests __percentage__0 first.
    models = shutil.copytree(CORE / "models", tmp_path / "models")
    (models / "num_stories.json").write_text("[6, 12]")
    found = _read(models=models, percentages=[50, 0])
    assert [m["correct_stories"] for m in found["memo"][0]] == [3, 6]


def test_the_test_stories_are_counted() -> None:
    assert count_test_stories(CORE / "tests") == 6


def test_every_model_rasa_did_not_train_is_named(tmp_path: Path) -> None:
    models = shutil.copytree(CORE / "models", tmp_path / "models")
    assert missing_models(models, ["memo", "rules"], runs=2, percentages=[0, 50]) == []
    (models / "run_2" / "rules__percentage__50.tar.gz").unlink()
    [missing] = missing_models(models, ["memo", "rules"], runs=2, percentages=[0, 50])
    assert str(missing) == "'rules' in run 2 at 50% exclusion: no model was written"


def test_a_results_file_without_every_run_is_an_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text(json.dumps({"memo": [[6, 3]], "rules": [[5, 2]]}))
    with pytest.raises(ToolkitError, match="no 2 runs of 2 correct-story counts for the "
                                           "configuration 'memo'"):
        _read(out=out)
