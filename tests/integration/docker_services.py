"""A private Docker engine and real registries, started by the tests and stopped by their PIDs.

- ``dockerd`` (Debian's docker.io) on a unix socket in a fresh temporary directory, with its
  own data root, exec root and pid file; no iptables, no bridge (see ../shared/ENVIRONMENT.md).
  Containers use ``--network host``. Storage: overlay2 where the kernel allows it, else vfs.
  vfs copies the whole file system for every build step (about 10 s a step with the
  rasa-sdk base here, against well under a second with overlay2), so the tests try overlay2
  first; CI_TOOLKIT_TEST_DOCKER_STORAGE_DRIVER=vfs (or overlay2) forces one.
- ``docker-registry serve`` (the CNCF distribution server) on 127.0.0.1 and a free port;
  one variant has htpasswd auth (bcrypt, made with apache2-utils' ``htpasswd``).
- The base image ``rasa/rasa-sdk:3.6.2`` is imported from a locally built root filesystem
  (sdk_base_image.py).

Without ``dockerd`` the tests are skipped with the reason, unless CI_TOOLKIT_REQUIRE_DOCKER=1,
which turns every missing piece into a failure (CI sets it, so nothing is skipped silently).
Apt packages: docker.io docker-registry apache2-utils debootstrap.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from tests.integration.sdk_base_image import import_base_image

if TYPE_CHECKING:
    from docker.client import DockerClient

APT_PACKAGES = "docker.io docker-registry apache2-utils debootstrap"
REGISTRY_USER = "ci-bot"
# A password that is easy to find if it ever leaks into output or files.
REGISTRY_PASSWORD = "S3cret-Registry-Passw0rd-4d9f"


def docker_required() -> bool:
    return os.environ.get("CI_TOOLKIT_REQUIRE_DOCKER", "") not in ("", "0", "false")


def require_tool(tool: str) -> str:
    found = shutil.which(tool)
    if found:
        return found
    message = (f"'{tool}' is not installed; the image tests need the apt packages "
               f"{APT_PACKAGES}.")
    if tool == "dockerd" and not docker_required():
        pytest.skip(message + " Set CI_TOOLKIT_REQUIRE_DOCKER=1 to make this a failure.")
    pytest.fail(message, pytrace=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop_process(process: subprocess.Popen[bytes], *, timeout_s: float = 30) -> None:
    """Stop a child we started, by its own PID: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout_s)


def _wait_until(check, what: str, process: subprocess.Popen[bytes], log: Path,  # type: ignore[no-untyped-def]
                timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n"
                               f"{log.read_text(errors='replace')[-3000:]}")
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.2)
    stop_process(process)
    raise RuntimeError(f"{what} did not become ready in {timeout_s:.0f} s:\n"
                       f"{log.read_text(errors='replace')[-3000:]}")


@dataclass
class DockerEngine:
    directory: Path
    process: subprocess.Popen[bytes]
    storage_driver: str

    @property
    def socket(self) -> Path:
        return self.directory / "docker.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def client(self) -> DockerClient:
        import docker.client

        return docker.client.DockerClient(base_url=self.host, timeout=600)


def storage_drivers() -> tuple[str, ...]:
    forced = os.environ.get("CI_TOOLKIT_TEST_DOCKER_STORAGE_DRIVER", "").strip()
    return (forced,) if forced else ("overlay2", "vfs")


def start_engine() -> DockerEngine:
    dockerd = require_tool("dockerd")
    failures = []
    for driver in storage_drivers():
        try:
            return _start_engine(dockerd, driver)
        except RuntimeError as error:
            failures.append(f"--storage-driver={driver}: {error}")
    raise RuntimeError("dockerd did not start:\n" + "\n".join(failures))


def _start_engine(dockerd: str, storage_driver: str) -> DockerEngine:
    # A short path: containerd's sockets live under the exec root (108-byte socket limit).
    directory = Path(tempfile.mkdtemp(prefix="cit-docker-", dir="/tmp"))
    log = directory / "dockerd.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [dockerd, "--data-root", str(directory / "root"), "--exec-root",
             str(directory / "exec"), "--pidfile", str(directory / "docker.pid"),
             "-H", f"unix://{directory / 'docker.sock'}", "--iptables=false",
             "--ip6tables=false", "--bridge=none", f"--storage-driver={storage_driver}"],
            stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    engine = DockerEngine(directory, process, storage_driver)

    def answers() -> bool:
        # A raw request: a docker client made before the engine listens leaks its socket.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(2)
            connection.connect(str(engine.socket))
            connection.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return connection.recv(64).startswith(b"HTTP/1.0 200")

    try:
        _wait_until(answers, "dockerd", process, log)
    except RuntimeError:
        stop_engine(engine)
        raise
    return engine


def _mounts_under(directory: Path) -> list[str]:
    prefix = str(directory) + "/"
    points = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    return sorted({p for p in points if p.startswith(prefix) or p == str(directory)},
                  key=len, reverse=True)


def stop_engine(engine: DockerEngine) -> None:
    stop_process(engine.process)
    # dockerd leaves its network namespace (and, if killed, layer) mounts behind: unmount
    # those under our own directory, deepest first, so the directory can be removed.
    for mount_point in _mounts_under(engine.directory):
        subprocess.run(["umount", "-l", mount_point], check=False, capture_output=True)
    shutil.rmtree(engine.directory, ignore_errors=True)


@dataclass
class Registry:
    address: str  # 127.0.0.1:PORT
    directory: Path
    process: subprocess.Popen[bytes]
    username: str | None = None
    password: str | None = None

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def session(self) -> requests.Session:
        """An HTTP session for the registry API, logged in when the registry needs it."""
        session = requests.Session()
        if self.username and self.password:
            session.auth = (self.username, self.password)
        return session


def start_registry(*, with_auth: bool = False, port: int | None = None) -> Registry:
    binary = require_tool("docker-registry")
    directory = Path(tempfile.mkdtemp(prefix="cit-registry-"))
    address = f"127.0.0.1:{port or free_port()}"
    auth = ""
    if with_auth:
        htpasswd = require_tool("htpasswd")
        # -i: the password goes in on stdin, not argv.
        subprocess.run([htpasswd, "-B", "-i", "-c", str(directory / "htpasswd"), REGISTRY_USER],
                       input=REGISTRY_PASSWORD.encode(), check=True, capture_output=True)
        auth = (f"auth:\n  htpasswd:\n    realm: ci-toolkit-tests\n"
                f"    path: {directory / 'htpasswd'}\n")
    config = directory / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {directory / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: {address}\n{auth}", encoding="utf-8")
    log = directory / "registry.log"
    with log.open("wb") as handle:
        process = subprocess.Popen([binary, "serve", str(config)], stdout=handle,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    registry = Registry(address, directory, process,
                        REGISTRY_USER if with_auth else None,
                        REGISTRY_PASSWORD if with_auth else None)
    # /v2/ answers 200, or 401 when auth is on: either way the registry is serving.
    _wait_until(lambda: requests.get(f"{registry.url}/v2/", timeout=2).status_code in (200, 401),
                "docker-registry", process, log, timeout_s=30)
    return registry


def stop_registry(registry: Registry) -> None:
    stop_process(registry.process)
    shutil.rmtree(registry.directory, ignore_errors=True)


@pytest.fixture(scope="session", name="docker_engine")
def docker_engine_fixture() -> Iterator[DockerEngine]:
    engine = start_engine()
    try:
        yield engine
    finally:
        stop_engine(engine)


@pytest.fixture(scope="session", name="docker_client")
def docker_client_fixture(docker_engine: DockerEngine) -> Iterator[DockerClient]:
    client = docker_engine.client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session", name="sdk_base_image")
def sdk_base_image_fixture(docker_client: DockerClient) -> str:
    return import_base_image(docker_client)


@pytest.fixture(scope="session", name="registry")
def registry_fixture() -> Iterator[Registry]:
    running = start_registry()
    try:
        yield running
    finally:
        stop_registry(running)


@pytest.fixture(scope="session", name="auth_registry")
def auth_registry_fixture() -> Iterator[Registry]:
    running = start_registry(with_auth=True)
    try:
        yield running
    finally:
        stop_registry(running)
