"""What the smoke test expects and how it starts the server, without an engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_toolkit.errors import UsageError
from ci_toolkit.image.container_check import (
    custom_actions_in_domain,
    last_error_line,
    smoke_command,
)
from tests import paths

EXAMPLE_DOMAIN = paths.EXAMPLE / "domain.yml"
FIXTURES = paths.FIXTURES / "image"


def test_the_example_domain_expects_its_two_custom_actions() -> None:
    assert custom_actions_in_domain(EXAMPLE_DOMAIN) == ("validate_order_form",
                                                         "action_place_order")


def test_a_domain_directory_is_read_whole_and_responses_are_skipped(tmp_path: Path) -> None:
    domain = tmp_path / "domain"
    (domain / "forms").mkdir(parents=True)
    (domain / "core.yml").write_text(
        "version: '3.1'\nactions:\n  - utter_greet\n  - action_check_stock\n"
        "  - action_send_receipt:\n      send_domain: true\n")
    (domain / "forms" / "order.yml").write_text(
        "version: '3.1'\nforms:\n  order_form:\n    required_slots: [drink]\n"
        "actions:\n  - validate_order_form\n  - action_check_stock\n")
    (domain / "responses.yml").write_text("responses:\n  utter_greet:\n  - text: hi\n")
    assert custom_actions_in_domain(domain) == (
        "action_check_stock", "action_send_receipt", "validate_order_form")


def test_a_missing_domain_says_how_to_name_the_actions_instead(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--expect-action"):
        custom_actions_in_domain(tmp_path / "domain.yml")


def test_broken_domain_yaml_is_a_usage_error_with_its_line(tmp_path: Path) -> None:
    domain = tmp_path / "domain.yml"
    domain.write_text("actions:\n  - action_a\n  - [unclosed\n")
    with pytest.raises(UsageError) as raised:
        custom_actions_in_domain(domain)
    assert raised.value.file == str(domain) and raised.value.line is not None


def test_the_rasa_sdk_command_gets_a_private_port() -> None:
    assert smoke_command(["start", "--actions", "actions"], 41234) == (
        ["start", "--actions", "actions", "--port", "41234"], 41234)


@pytest.mark.parametrize("command", [
    ["start", "--actions", "actions", "--port", "6000"],
    ["start", "--actions", "actions", "-p", "6000"],
    ["python", "-m", "my_server"],
    None,
])
def test_other_commands_are_left_alone(command: list[str] | None) -> None:
    assert smoke_command(command, 41234) == (None, 5055)


def test_the_last_error_of_a_real_action_server_log_is_found() -> None:
    log = (FIXTURES / "action-server-import-error.log").read_text()
    assert last_error_line(log) == (
        "ModuleNotFoundError: No module named 'ci_toolkit_missing_module'")
    assert last_error_line("all good\n") is None
