"""What the smoke test expects, how it starts the server, and how it waits and decides,
with stand-ins for the engine's container and the HTTP session."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.image.container_check import (
    custom_actions_in_domain,
    last_error_line,
    smoke_command,
    smoke_test,
)
from ci_toolkit.proc import Console
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


# --- the check itself, with a stand-in container and HTTP session ------------------------

IMPORT_ERROR = "ModuleNotFoundError: No module named 'stock'"


class FakeContainer:
    def __init__(self, *, exits: bool = False) -> None:
        self.status = "exited" if exits else "running"
        self.attrs: dict[str, Any] = {"State": {"ExitCode": 1 if exits else 0}}
        self.removed = False

    def reload(self) -> None:
        pass

    def logs(self, *, stdout: bool, stderr: bool) -> bytes:
        return f"Traceback (most recent call last):\n{IMPORT_ERROR}\n".encode()

    def remove(self, *, force: bool) -> None:
        self.removed = force


class FakeClient:
    def __init__(self, container: FakeContainer) -> None:
        self.container = container
        self.run_with: dict[str, Any] = {}
        self.api = self
        self.containers = self

    def inspect_image(self, image: str) -> dict[str, Any]:
        return {"Config": {"Cmd": ["start", "--actions", "actions"]}}

    def run(self, image: str, **options: Any) -> FakeContainer:
        self.run_with = options
        return self.container


class FakeResponse:
    def __init__(self, status_code: int, body: Any) -> None:
        self.status_code, self.body = status_code, body

    def json(self) -> Any:
        return self.body


class FakeSession:
    def __init__(self, healthy: bool, actions: list[str]) -> None:
        self.healthy, self.actions = healthy, actions

    def get(self, url: str, timeout: float) -> FakeResponse:
        if url.endswith("/health"):
            return FakeResponse(200, {"status": "ok"}) if self.healthy else FakeResponse(503, None)
        return FakeResponse(200, [{"name": name} for name in self.actions])


def check(container: FakeContainer, session: FakeSession, expected: tuple[str, ...],
          timeout_s: float = 5.0, while_running: Any = None) -> tuple[FakeClient, str, Any]:
    client = FakeClient(container)
    screen = io.StringIO()
    try:
        outcome: Any = smoke_test(client, "coffeebot:dev", session=session,  # type: ignore[arg-type]
                                  expected_actions=expected, console=Console(screen),
                                  timeout_s=timeout_s, while_running=while_running)
    except ToolkitError as error:
        outcome = error
    return client, screen.getvalue(), outcome


def test_a_healthy_server_that_lists_the_actions_passes_and_is_removed() -> None:
    container = FakeContainer()
    client, screen, result = check(container, FakeSession(True, ["action_a", "action_b"]),
                                   ("action_a",))
    assert result.served_actions == ("action_a", "action_b")
    assert result.expected_actions == ("action_a",)
    assert container.removed
    port = client.run_with["environment"]["ACTION_SERVER_PORT"]
    assert client.run_with["command"] == ["start", "--actions", "actions", "--port", port]
    assert client.run_with["environment"]["SANIC_HOST"] == "127.0.0.1"
    assert "/health is ok after" in screen and "/actions lists: action_a, action_b" in screen


def test_a_missing_action_fails_with_the_container_log() -> None:
    container = FakeContainer()
    _, screen, error = check(container, FakeSession(True, ["action_a"]), ("action_a", "b"))
    assert isinstance(error, ToolkitError)
    assert error.message.startswith("Smoke test of coffeebot:dev failed: /actions does not "
                                     "list b (it lists action_a)")
    assert error.message.endswith(f"The container log ends with: {IMPORT_ERROR} The "
                                  "container's log is printed above.")
    assert IMPORT_ERROR in screen and container.removed


def test_a_server_that_exits_fails_at_once() -> None:
    _, _, error = check(FakeContainer(exits=True), FakeSession(False, []), ())
    assert isinstance(error, ToolkitError)
    assert "the action server exited with code 1 before /health answered" in error.message


def test_a_server_that_never_gets_healthy_fails_after_the_timeout() -> None:
    container = FakeContainer()
    _, _, error = check(container, FakeSession(False, []), (), timeout_s=0.3)
    assert isinstance(error, ToolkitError)
    assert '/health did not answer {"status": "ok"} within 0 s (last HTTP status: 503)' in (
        error.message)
    assert container.removed
