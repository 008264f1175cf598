"""The shape checks are as lenient as rasa: what rasa reads fine is accepted, and the
fingerprint never crashes on data the checks let through."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from ci_toolkit.errors import UsageError
from ci_toolkit.pipeline.fingerprint import ProjectDigests, custom_components, digest
from ci_toolkit.pipeline.project import load_project
from tests.rasa_support import copy_example

# (case, file, its whole new content)
LENIENT_CASES = [
    ("unknown config key", "config.yml", "language: en\nmy_own_key: [1, 2]\n"),
    ("language `no` (a YAML 1.1 boolean)", "config.yml", "language: no\n"),
    ("numeric assistant_id", "config.yml", "assistant_id: 20230101\n"),
    ("empty pipeline", "config.yml", "pipeline:\npolicies: []\n"),
    ("intents with options", "domain.yml", "intents:\n  - greet:\n      use_entities: true\n"),
    ("entity with roles", "domain.yml", "entities:\n  - city:\n      roles: [from, to]\n"),
    ("slot named yes (a boolean key in YAML 1.1)", "domain.yml",
     "slots:\n  yes:\n    type: any\n    mappings: []\n  other:\n    type: any\n"
     "    mappings: []\n"),
    ("shared alias", "data/nlu.yml", "x: &x {a: 1}\ny: [*x, *x]\n"),
    ("story without steps", "data/stories.yml", "stories:\n  - story: s\n"),
    ("date key", "data/rules.yml", "2024-01-01: new year\nrules: []\n"),
    ("empty file", "data/rules.yml", ""),
]


@pytest.mark.parametrize("relative, content", [c[1:] for c in LENIENT_CASES],
                         ids=[c[0] for c in LENIENT_CASES])
def test_what_rasa_reads_is_accepted_and_fingerprinted(tmp_path: Path, relative: str,
                                                       content: str) -> None:
    project = copy_example(tmp_path / "bot")
    (project / relative).write_text(content)
    assert len(ProjectDigests.of(load_project(project)).config_all) == 64


def test_a_recursive_file_is_refused_with_file_and_fix(tmp_path: Path) -> None:
    project = copy_example(tmp_path / "bot")
    (project / "tests" / "test_stories.yml").write_text("stories: &s\n  - steps: *s\n")
    with pytest.raises(UsageError, match="uses a YAML alias that refers to itself"):
        load_project(project)


@pytest.mark.parametrize("value", [
    {1: "a", "b": 2, None: True, datetime.date(2024, 1, 1): "d"},
    [{"x": 1}, ("t", 2)],
])
def test_digest_takes_any_yaml_keys(value: object) -> None:
    assert digest(value) == digest(value)


def test_digest_survives_a_value_inside_itself() -> None:
    loop: list[object] = []
    loop.append(loop)
    assert len(digest({"a": loop})) == 64


def test_digest_of_plain_data_is_unchanged() -> None:
    # Fingerprints written before the keys were made strings stay valid.
    assert digest({"b": [1, "x"], "a": None}) == (
        "c22cb7b0353770e2b38094af641143ebf008ddf2d1f2dedb9d875996fcf245fa")


@pytest.mark.parametrize("config", [{"policies": 5}, {"policies": "x.Y"}, {"policies": None},
                                    {"policies": [5, {"name": 3}]}])
def test_custom_components_of_a_malformed_section_are_none(config: dict) -> None:
    assert custom_components(config, "policies") == []
