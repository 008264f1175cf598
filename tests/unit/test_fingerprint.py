from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ci_toolkit.fingerprint import stage_fingerprints
from ci_toolkit.project import load_project
from ci_toolkit.settings import PipelineSettings
from tests import project_changes
from tests.rasa_support import copy_example


def _prints(project: Path, **settings: object) -> dict[str, str | None]:
    return stage_fingerprints(load_project(project), PipelineSettings(project_dir=project, **settings),
                              rasa_version="3.6.21", given_model=None)


def _changed(tmp_path: Path, change: Callable[[Path], None]) -> set[str]:
    project = copy_example(tmp_path / "bot")
    before = _prints(project)
    change(project)
    after = _prints(project)
    return {stage for stage in before if before[stage] != after[stage]}


@pytest.mark.parametrize("change, expected", [
    (project_changes.change_response_text, {"validate", "train", "test_core"}),
    (project_changes.change_nlu_data, {"validate", "train", "test_core", "test_nlu", "cross_validate"}),
    (project_changes.change_story, {"validate", "train", "test_core"}),
    (project_changes.add_failing_test_story, {"test_core"}),
])
def test_each_change_invalidates_exactly_its_stages(tmp_path: Path, change, expected: set[str]) -> None:
    assert _changed(tmp_path, change) == expected


def test_comments_and_formatting_change_nothing(tmp_path: Path) -> None:
    def reformat(project: Path) -> None:
        path = project / "domain.yml"
        path.write_text("# a comment\n\n" + path.read_text().replace("intents:", "intents:   # labels"))
    assert _changed(tmp_path, reformat) == set()


def test_retrieval_response_text_is_an_nlu_input(tmp_path: Path) -> None:
    def change(project: Path) -> None:
        path = project / "domain.yml"
        path.write_text(path.read_text().replace("free wifi", "fast free wifi"))
    assert {"test_nlu", "cross_validate"} <= _changed(tmp_path, change)


def test_options_and_rasa_version_are_inputs(tmp_path: Path) -> None:
    project = copy_example(tmp_path / "bot")
    base = _prints(project)
    assert _prints(project, folds=5)["cross_validate"] != base["cross_validate"]
    assert _prints(project, folds=5)["test_nlu"] == base["test_nlu"]
    assert _prints(project, train_args=("--epoch-fraction", "0.5"))["train"] != base["train"]
    other = stage_fingerprints(load_project(project), PipelineSettings(project_dir=project),
                               rasa_version="3.6.20", given_model=None)
    assert all(other[stage] != base[stage] for stage in base)


def test_finetuning_is_never_cached(tmp_path: Path) -> None:
    project = copy_example(tmp_path / "bot")
    prints = _prints(project, finetune=True)
    assert prints["train"] is None and prints["test_core"] is None
