from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ci_toolkit.pipeline.fingerprint import stage_fingerprints
from ci_toolkit.pipeline.project import load_project
from ci_toolkit.pipeline.settings import PipelineSettings
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
    # The NLU test too: the fine-tuned model depends on the model it started from.
    assert prints["train"] is None and prints["test_core"] is None and prints["test_nlu"] is None
    assert prints["cross_validate"] is not None  # trains its own models from scratch


def _use_components(project: Path, *, pipeline: str | None = None, policy: str | None = None) -> None:
    path = project / "config.yml"
    text = path.read_text()
    if pipeline:
        text = text.replace("pipeline:\n", f"pipeline:\n  - name: {pipeline}\n", 1)
    if policy:
        text = text.replace("policies:\n", f"policies:\n  - name: {policy}\n", 1)
    path.write_text(text)


def test_custom_nlu_component_code_is_an_input(tmp_path: Path) -> None:
    project = copy_example(tmp_path / "bot")
    (project / "addons").mkdir()
    (project / "addons" / "__init__.py").write_text("")
    (project / "addons" / "helpers.py").write_text("THRESHOLD = 0.5\n")
    _use_components(project, pipeline="addons.sentiment.SentimentAnalyzer")
    (project / "addons" / "sentiment.py").write_text("class SentimentAnalyzer: ...\n")
    before = _prints(project)
    # A helper in the same package counts: the component may import it.
    (project / "addons" / "helpers.py").write_text("THRESHOLD = 0.7\n")
    after = _prints(project)
    assert {s for s in before if before[s] != after[s]} == {
        "train", "test_core", "test_nlu", "cross_validate"}


def test_custom_policy_code_is_a_core_input_only(tmp_path: Path) -> None:
    project = copy_example(tmp_path / "bot")
    _use_components(project, policy="my_policy.CarefulPolicy")
    (project / "my_policy.py").write_text("class CarefulPolicy: ...\n")
    before = _prints(project)
    (project / "my_policy.py").write_text("class CarefulPolicy:\n    max_history = 3\n")
    after = _prints(project)
    assert {s for s in before if before[s] != after[s]} == {"train", "test_core"}


def test_custom_action_code_is_not_an_input(tmp_path: Path) -> None:
    project = copy_example(tmp_path / "bot")
    before = _prints(project)
    actions = project / "actions" / "actions.py"
    actions.write_text(actions.read_text() + "\n# a comment\n")
    assert _prints(project) == before


def test_component_outside_the_project_is_never_cached(tmp_path: Path) -> None:
    project = copy_example(tmp_path / "bot")
    _use_components(project, pipeline="installed_pkg.featurizers.Fancy")
    warnings: list[str] = []
    prints = stage_fingerprints(load_project(project), PipelineSettings(project_dir=project),
                                rasa_version="3.6.21", given_model=None, warn=warnings.append)
    assert prints["train"] is None and prints["test_core"] is None
    assert prints["test_nlu"] is None and prints["cross_validate"] is None
    assert prints["validate"] is not None
    assert len(warnings) == 1 and "installed_pkg.featurizers.Fancy" in warnings[0]


def test_non_yaml_training_data_is_an_input(tmp_path: Path) -> None:
    def add_lookup(project: Path) -> None:
        (project / "data" / "cities.txt").write_text("Berlin\nParis\n")
    assert _changed(tmp_path, add_lookup) == {
        "validate", "train", "test_core", "test_nlu", "cross_validate"}


def test_end_to_end_story_text_is_an_nlu_input(tmp_path: Path) -> None:
    project = copy_example(tmp_path / "bot")
    stories = project / "data" / "stories.yml"
    stories.write_text(stories.read_text() + """
  - story: end to end
    steps:
      - user: I would like a flat white
      - action: utter_greet
""")
    before = _prints(project)
    stories.write_text(stories.read_text().replace("a flat white", "an espresso"))
    after = _prints(project)
    assert {s for s in before if before[s] != after[s]} == {
        "validate", "train", "test_core", "test_nlu", "cross_validate"}


def test_given_model_nlu_test_sees_retrieval_responses(tmp_path: Path) -> None:
    project = copy_example(tmp_path / "bot")
    model = tmp_path / "given.tar.gz"
    model.write_bytes(b"model")

    def prints() -> dict[str, str | None]:
        return stage_fingerprints(load_project(project), PipelineSettings(project_dir=project),
                                  rasa_version="3.6.21", given_model=model)
    before = prints()
    domain = project / "domain.yml"
    domain.write_text(domain.read_text().replace("free wifi", "fast free wifi"))
    assert prints()["test_nlu"] != before["test_nlu"]


def test_importers_make_nothing_cacheable(tmp_path: Path) -> None:
    project = copy_example(tmp_path / "bot")
    config = project / "config.yml"
    config.write_text(config.read_text() + "importers:\n  - name: MultiProjectImporter\n")
    warnings: list[str] = []
    prints = stage_fingerprints(load_project(project), PipelineSettings(project_dir=project),
                                rasa_version="3.6.21", given_model=None, warn=warnings.append)
    assert set(prints.values()) == {None}
    assert len(warnings) == 1 and "importers" in warnings[0]
