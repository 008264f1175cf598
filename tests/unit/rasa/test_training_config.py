"""rasa never writes to the user's config.yml (ci_toolkit/rasa/training_config.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ci_toolkit.pipeline.project import load_project
from ci_toolkit.rasa.training_config import (
    config_rasa_may_write,
    stable_assistant_id,
    what_rasa_would_rewrite,
    with_assistant_id,
)
from tests.rasa_support import copy_example

FULL = {"assistant_id": "bot", "pipeline": [{"name": "X"}], "policies": [{"name": "Y"}]}


@pytest.mark.parametrize("config, train_type, says", [
    (FULL, "all", []),
    ({**FULL, "assistant_id": None}, "all", ["no assistant_id"]),
    ({**FULL, "assistant_id": "placeholder_default"}, "all", ["no assistant_id"]),
    ({k: v for k, v in FULL.items() if k != "assistant_id"}, "nlu", ["no assistant_id"]),
    ({**FULL, "policies": []}, "all", ["no policies"]),
    ({**FULL, "policies": []}, "nlu", []),  # `rasa train nlu` configures only the pipeline
    ({**FULL, "pipeline": None}, "core", []),
    ({"recipe": "default.v1"}, "all", ["no assistant_id", "no pipeline or policies"]),
])
def test_what_rasa_would_rewrite(config: dict, train_type: str, says: list[str]) -> None:
    reasons = what_rasa_would_rewrite(config, train_type=train_type)
    assert len(reasons) == len(says)
    for reason, text in zip(reasons, says, strict=True):
        assert text in reason


def test_a_config_rasa_would_rewrite_is_copied_and_the_file_left_alone(tmp_path: Path) -> None:
    project_dir = copy_example(tmp_path / "my bot")
    config = project_dir / "config.yml"
    config.write_text("# my comment\nrecipe: default.v1\nlanguage: en\n")
    before = config.read_bytes()
    notices: list[str] = []
    with config_rasa_may_write(load_project(project_dir), train_type="all",
                               assistant_name="my bot", notice=notices.append) as project:
        copy = project.config
        assert copy != config and copy.name == "config.yml"
        # The user's text, byte for byte, with the one line rasa wants added.
        assert copy.read_text() == "# my comment\nrecipe: default.v1\nlanguage: en\n" \
                                   "assistant_id: my-bot\n"
        copy.write_text("rasa rewrote its copy")  # as rasa train does
    assert not copy.exists()
    assert config.read_bytes() == before
    [notice] = notices
    assert "config.yml is left unchanged" in notice
    assert "add `assistant_id: my-bot` and list the pipeline and policies" in notice


def test_a_complete_config_is_used_as_it_is(tmp_path: Path) -> None:
    project = load_project(copy_example(tmp_path / "bot"))
    notices: list[str] = []
    with config_rasa_may_write(project, train_type="all", assistant_name="bot",
                               notice=notices.append) as given:
        assert given is project
    assert notices == []


@pytest.mark.parametrize("name, assistant_id", [
    ("coffeebot", "coffeebot"), ("my bot", "my-bot"), ("../..", "assistant"),
    ("Café Bot!", "Caf-Bot"),
])
def test_the_added_assistant_id_is_stable_and_plain(name: str, assistant_id: str) -> None:
    assert stable_assistant_id(name) == assistant_id


@pytest.mark.parametrize("text, expected", [
    ("recipe: default.v1\n", "recipe: default.v1\nassistant_id: bot\n"),
    ("recipe: default.v1", "recipe: default.v1\nassistant_id: bot\n"),
    ("assistant_id: placeholder_default  # set me\nlanguage: en\n",
     "assistant_id: bot\nlanguage: en\n"),
    ("assistant_id:\nlanguage: en\n", "assistant_id: bot\nlanguage: en\n"),
    # YAML 1.1 and 1.2 read `no` differently: the text must reach rasa as written.
    ("pipeline:\n- name: X\n  case_sensitive: no\n",
     "pipeline:\n- name: X\n  case_sensitive: no\nassistant_id: bot\n"),
])
def test_the_assistant_id_is_set_and_every_other_byte_kept(text: str, expected: str) -> None:
    assert with_assistant_id(text, "bot") == expected


def test_a_flow_style_config_is_dumped_again() -> None:
    changed = with_assistant_id("{recipe: default.v1, language: en}", "bot")
    assert yaml.safe_load(changed) == {"recipe": "default.v1", "language": "en",
                                       "assistant_id": "bot"}
