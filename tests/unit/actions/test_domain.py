"""Reading what the domain promises the action server."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_toolkit.actions.domain import ActionDomain, find_domain, load_domain
from ci_toolkit.errors import UsageError
from tests import paths


def test_the_example_domain(domain: ActionDomain) -> None:
    assert domain.actions == ("validate_order_form", "action_place_order")
    assert domain.forms == ("order_form",)
    assert domain.actions_to_check == ("validate_order_form", "action_place_order")
    # The slots rasa adds: the session's metadata always, requested_slot with forms.
    assert domain.slots == ("drink", "size", "session_started_metadata", "requested_slot")
    assert "utter_faq/wifi" in domain.responses
    assert domain.intents[0] == "greet"
    assert domain.content["forms"]["order_form"]["required_slots"] == ["drink", "size"]
    assert "requested_slot" in domain.content["slots"]


def test_a_form_validation_action_not_listed_is_still_checked(tmp_path: Path) -> None:
    (tmp_path / "domain.yml").write_text(
        "forms:\n  f:\n    required_slots: [a]\nslots:\n  a: {type: text, mappings: []}\n"
        "actions:\n  - utter_x\n  - action_a: {send_domain: true}\n")
    domain = load_domain(find_domain(tmp_path))
    assert domain.actions == ("action_a",)
    assert domain.actions_to_check == ("action_a", "validate_f")


def test_a_domain_directory_is_merged(tmp_path: Path) -> None:
    (tmp_path / "domain").mkdir()
    (tmp_path / "domain" / "a.yml").write_text(
        "actions: [action_a]\nslots:\n  x: {type: any}\nresponses:\n  utter_a: [{text: a}]\n")
    (tmp_path / "domain" / "b.yml").write_text(
        "actions: [action_b, action_query_knowledge_base]\nslots:\n  y: {type: any}\n")
    (tmp_path / "domain" / "empty.yml").write_text("")
    domain = load_domain(find_domain(tmp_path))
    assert domain.actions == ("action_a", "action_b", "action_query_knowledge_base")
    assert domain.slots[:3] == ("x", "y", "session_started_metadata")
    assert "knowledge_base_listed_objects" in domain.slots
    assert "requested_slot" not in domain.slots
    assert domain.responses == ("utter_a",)


@pytest.mark.parametrize(("text", "message", "line"), [
    ("actions: [a\n", "is not valid YAML", 2),
    ("- a\n- b\n", "must be a YAML mapping", 1),
    ("actions: action_a\n", "'actions' must be a list of names", None),
    ("slots: [a, b]\n", "'slots' must be a mapping of names", None),
    ("actions: [a]\nactions: [b]\n", "appears twice", 2),
])
def test_a_bad_domain_is_a_usage_error(tmp_path: Path, text: str, message: str,
                                       line: int | None) -> None:
    (tmp_path / "domain.yml").write_text(text)
    with pytest.raises(UsageError, match=message) as raised:
        load_domain(tmp_path / "domain.yml")
    assert raised.value.file == str(tmp_path / "domain.yml")
    assert raised.value.line == line


def test_no_domain_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"No domain found .*domain\.yml"):
        find_domain(tmp_path)
    with pytest.raises(UsageError, match="does not exist"):
        load_domain(tmp_path / "domain.yml")
    (tmp_path / "domain").mkdir()
    with pytest.raises(UsageError, match=r"holds no \.yml"):
        load_domain(tmp_path / "domain")


def test_the_example_project_is_found() -> None:
    assert find_domain(paths.EXAMPLE) == paths.EXAMPLE / "domain.yml"
