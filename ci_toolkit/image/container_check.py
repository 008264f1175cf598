"""Prove that a built action-server image starts and serves the actions it should.

The image is run as a container; the smoke test waits for ``GET /health`` to answer
``{"status": "ok"}`` and checks that ``GET /actions`` lists every expected action: the custom
actions named in the project's domain, or names given explicitly. A container that exits
early (an import error in the actions, a missing package) fails at once, with its log.
While the container still runs, ``while_running`` may test it further (the action contract
tests of `image build --contract-tests`, ci_toolkit/actions/container.py).
"""

from __future__ import annotations

import re
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.proc import Console
from ci_toolkit.retry import poll

if TYPE_CHECKING:
    import requests
    from docker.client import DockerClient
    from docker.models.containers import Container

LABEL = "smoke"
DEFAULT_PORT = 5055
_EXCEPTION_LINE = re.compile(r"^\s*(?:[\w.]+\.)?\w*(?:Error|Exception)\b.*$")


@dataclass(frozen=True)
class SmokeResult:
    health_after_s: float
    served_actions: tuple[str, ...]
    expected_actions: tuple[str, ...]
    base_url: str = ""  # where the container answered, e.g. http://127.0.0.1:41187


# Called with the container's base URL and a function that returns its log so far.
WhileRunning = Callable[[str, Callable[[], str]], None]


def custom_actions_in_domain(domain: Path) -> tuple[str, ...]:
    """Action names of a domain (file or directory) that an action server must serve.

    ``utter_*`` entries are responses that rasa answers itself; every other entry, including
    ``validate_<form>``, is a custom action.
    """
    from ci_toolkit.pipeline.project import load_yaml, yaml_files

    if not domain.exists():
        raise UsageError(
            f"The domain {domain} does not exist. Point --domain (CI_TOOLKIT_IMAGE_DOMAIN) at your "
            "domain file or directory, or name the actions with --expect-actions "
            "(CI_TOOLKIT_EXPECT_ACTIONS)."
        )
    names: list[str] = []
    for path in yaml_files(domain):
        content = load_yaml(path, what="Domain file")
        if not isinstance(content, dict):
            continue
        for entry in content.get("actions") or []:
            # Rasa 3 allows `- action_name: {send_domain: true}` next to plain names.
            name = next(iter(entry), None) if isinstance(entry, dict) else entry
            if isinstance(name, str) and not name.startswith("utter_") and name not in names:
                names.append(name)
    return tuple(names)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def smoke_command(image_cmd: Sequence[str] | None, port: int) -> tuple[list[str] | None, int]:
    """The command to run, and the port the server will listen on.

    The rasa-sdk command ``start --actions actions`` gets ``--port`` so that the smoke test
    never collides with something already on 5055; any other command is left alone.
    """
    cmd = list(image_cmd or [])
    if cmd[:1] == ["start"] and not any(a in ("-p", "--port") or a.startswith("--port=")
                                        for a in cmd):
        return [*cmd, "--port", str(port)], port
    return None, DEFAULT_PORT


def last_error_line(log: str) -> str | None:
    for line in reversed(log.splitlines()):
        if _EXCEPTION_LINE.match(line):
            return line.strip()
    return None


def _container_log(container: Container) -> str:
    try:
        return bytes(container.logs(stdout=True, stderr=True)).decode("utf-8", "replace")
    except Exception:  # the log is a courtesy; the failure being reported matters more
        return ""


def _published_port(container: Container, port: int) -> int:
    container.reload()
    bindings = (container.attrs.get("NetworkSettings", {}).get("Ports") or {}).get(f"{port}/tcp")
    if not bindings:
        raise ToolkitError(f"The smoke-test container published no port for {port}/tcp.")
    return int(bindings[0]["HostPort"])


class _Failure(Exception):
    pass


def _get_json(session: requests.Session, url: str) -> tuple[int, Any]:
    import requests

    try:
        response = session.get(url, timeout=3)
    except requests.RequestException:
        return 0, None
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, None


def _wait_for_health(container: Container, session: requests.Session, base_url: str,
                     timeout_s: float) -> float:
    started = time.monotonic()
    last_status = 0

    def healthy() -> float | None:
        nonlocal last_status
        container.reload()
        if container.status in ("exited", "dead"):
            code = container.attrs.get("State", {}).get("ExitCode")
            raise _Failure(f"the action server exited with code {code} before /health answered")
        last_status, body = _get_json(session, f"{base_url}/health")
        if last_status == 200 and isinstance(body, dict) and body.get("status") == "ok":
            return time.monotonic() - started
        return None

    waited = poll(healthy, timeout_s=timeout_s, interval_s=0.5)
    if waited is None:
        raise _Failure(f"{base_url}/health did not answer {{\"status\": \"ok\"}} within "
                       f"{timeout_s:.0f} s (last HTTP status: {last_status or 'no answer'})")
    return waited


def _served_actions(session: requests.Session, base_url: str) -> tuple[str, ...]:
    status, body = _get_json(session, f"{base_url}/actions")
    if status != 200 or not isinstance(body, list):
        raise _Failure(f"{base_url}/actions answered HTTP {status or 'nothing'}, not a list")
    return tuple(str(item.get("name")) for item in body if isinstance(item, dict))


@dataclass(frozen=True)
class _Started:
    container: Container
    name: str
    port: int
    host_network: bool


def _start(client: DockerClient, image: str, network_mode: str) -> _Started:
    from docker.errors import APIError

    image_cmd = (client.api.inspect_image(image).get("Config") or {}).get("Cmd")
    command, port = smoke_command(image_cmd, free_port())
    host_network = network_mode == "host"
    environment = {"ACTION_SERVER_PORT": str(port)}
    if host_network:
        # On the host's network the server would otherwise listen on every interface.
        environment["SANIC_HOST"] = "127.0.0.1"
    name = f"ci-toolkit-smoke-{uuid.uuid4().hex[:10]}"
    try:
        container = client.containers.run(
            image, command=command, name=name, detach=True, environment=environment,
            network_mode=network_mode,
            ports=None if host_network else {f"{port}/tcp": ("127.0.0.1", None)},
        )
    except APIError as error:
        raise ToolkitError(f"Smoke test: could not start {image}: {error.explanation}.") from error
    return _Started(container, name, port, host_network)


def _check(started: _Started, session: requests.Session, expected_actions: Sequence[str],
           console: Console, timeout_s: float, since: float) -> SmokeResult:
    host_port = (started.port if started.host_network
                 else _published_port(started.container, started.port))
    base_url = f"http://127.0.0.1:{host_port}"
    health_after = _wait_for_health(started.container, session, base_url, timeout_s)
    console.child_line(LABEL, since, f"{base_url}/health is ok after {health_after:.1f} s")
    served = _served_actions(session, base_url)
    console.child_line(LABEL, since, f"/actions lists: {', '.join(served) or '(none)'}")
    missing = [action for action in expected_actions if action not in served]
    if missing:
        raise _Failure(
            f"/actions does not list {', '.join(missing)} (it lists "
            f"{', '.join(served) or 'no actions'}); check that the actions package defines "
            "them and that the domain names match"
        )
    return SmokeResult(health_after, served, tuple(expected_actions), base_url)


def _failed(image: str, started: _Started, failure: _Failure, console: Console) -> ToolkitError:
    """Print the container's log and say why the check failed, with the log's last error."""
    log = _container_log(started.container)
    console.line(f"----- log of the action-server container {started.name} -----")
    for line in log.rstrip().splitlines():
        console.line(line)
    console.line("----- end of the container log -----")
    cause = last_error_line(log)
    return ToolkitError(
        f"Smoke test of {image} failed: {failure}."
        + (f" The container log ends with: {cause}" if cause else "")
        + " The container's log is printed above."
    )


def smoke_test(
    client: DockerClient,
    image: str,
    *,
    session: requests.Session,
    expected_actions: Sequence[str],
    console: Console,
    timeout_s: float = 60.0,
    network_mode: str = "host",
    while_running: WhileRunning | None = None,
) -> SmokeResult:
    """Run ``image``, check /health and /actions, call ``while_running`` (if given) while
    the container still runs, then remove the container."""
    from docker.errors import APIError

    since = time.monotonic()
    started = _start(client, image, network_mode)
    console.child_line(LABEL, since, f"started container {started.name} from {image} "
                                     f"(port {started.port})")
    try:
        result = _check(started, session, expected_actions, console, timeout_s, since)
        if while_running is not None:
            while_running(result.base_url, lambda: _container_log(started.container))
        return result
    except _Failure as failure:
        raise _failed(image, started, failure, console) from None
    finally:
        try:
            started.container.remove(force=True)
        except APIError:
            console.line(f"[{LABEL}] warning: could not remove container {started.name}")
