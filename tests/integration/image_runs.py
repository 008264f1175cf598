"""Running `ci-toolkit image build/push` as a workflow step does, and reading what it left:
the outputs, the build steps, the registry's manifests, and the places a secret could leak.

Shared by test_image.py (build and container check) and test_image_push.py (registries).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from tests.integration.docker_services import REGISTRY_USER, DockerEngine, Registry
from tests.rasa_support import EXAMPLE_DIR

if TYPE_CHECKING:
    from docker.client import DockerClient

REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
EMPTY_DOCKER_CONFIG = '{"auths": {}}\n'
GIT_ENV = {"GIT_AUTHOR_NAME": "CI", "GIT_AUTHOR_EMAIL": "ci@example.com",
           "GIT_COMMITTER_NAME": "CI", "GIT_COMMITTER_EMAIL": "ci@example.com"}
PROJECT_FILES = ("actions", "data", "tests", "config.yml", "domain.yml", "credentials.yml",
                 "endpoints.yml", "requirements.txt")
STEP = re.compile(r"^\[image \d\d:\d\d\] Step \d+/\d+ : (.*)$")


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    workdir: Path

    @property
    def outputs(self) -> dict[str, str]:
        """$GITHUB_OUTPUT parsed, including heredoc (multi-line) values."""
        path = self.workdir / "github_output"
        values: dict[str, str] = {}
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        index = 0
        while index < len(lines):
            line = lines[index]
            if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
                name, delimiter = line.split("<<", 1)
                end = lines.index(delimiter, index + 1)
                values[name] = "\n".join(lines[index + 1:end])
                index = end + 1
                continue
            name, _, value = line.partition("=")
            values[name] = value
            index += 1
        return values

    def files_text(self) -> str:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace")
                         for path in sorted(self.workdir.rglob("*")) if path.is_file())


def git(project: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True,
                          text=True, env={**os.environ, **GIT_ENV})
    return done.stdout.strip()


@pytest.fixture(name="project")
def project_fixture(tmp_path: Path) -> Path:
    """A git checkout of the example assistant on branch feature/new-form."""
    bot = tmp_path / "coffeebot"
    bot.mkdir()
    for name in PROJECT_FILES:  # not caches, models or results that runs leave behind
        source = EXAMPLE_DIR / name
        if not source.exists():
            continue
        if source.is_dir():
            shutil.copytree(source, bot / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, bot / name)
    git(bot, "init", "-q", "-b", "feature/new-form")
    git(bot, "remote", "add", "origin", "git@github.com:octo-org/coffee-assistant.git")
    git(bot, "add", "-A")
    git(bot, "commit", "-q", "-m", "coffeebot")
    return bot


def commit_all(project: Path, message: str) -> str:
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", message)
    return git(project, "rev-parse", "HEAD")


def run_image(engine: DockerEngine, workdir: Path, project: Path, *args: str,
              command: str = "build", secrets: dict[str, str] | None = None) -> Run:
    workdir.mkdir(parents=True, exist_ok=True)
    # The docker client's config, as a runner has it: anything written to it is checked.
    (workdir / "docker-config").mkdir(exist_ok=True)
    (workdir / "docker-config" / "config.json").write_text(EMPTY_DOCKER_CONFIG)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("GITHUB_", "CI_TOOLKIT_", "RUNNER_", "DOCKER_"))}
    env.update({
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(workdir / "github_output"),
        "GITHUB_STEP_SUMMARY": str(workdir / "step_summary.md"),
        "DOCKER_HOST": engine.host,
        # The docker client's config dir: checked afterwards for leaked credentials.
        "DOCKER_CONFIG": str(workdir / "docker-config"),
        "PYTHONPATH": str(REPO_ROOT),
        **(secrets or {}),
    })
    extra = ["--build-network", "host"] if command == "build" else []
    done = subprocess.run(
        [sys.executable, "-m", "ci_toolkit.cli", "image", command, "--context", str(project),
         *extra, *args],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=900,
    )
    return Run(done.returncode, done.stdout, done.stderr, workdir)


def build_steps(stderr: str) -> list[tuple[str, bool]]:
    """(instruction, came from the cache) for every step of the streamed build output."""
    steps: list[tuple[str, bool]] = []
    for line in stderr.splitlines():
        step = STEP.match(line)
        if step:
            steps.append((step.group(1), False))
        elif line.endswith("---> Using cache") and steps:
            steps[-1] = (steps[-1][0], True)
    return steps


def step(steps: list[tuple[str, bool]], prefix: str) -> bool:
    matching = [cached for instruction, cached in steps if instruction.startswith(prefix)]
    assert len(matching) == 1, f"no single step {prefix!r} in {steps}"
    return matching[0]


def registry_get(registry: Registry, path: str, **headers: str) -> requests.Response:
    with registry.session() as session:
        return session.get(f"{registry.url}/v2/{path}", headers=headers, timeout=30)


def registry_tags(registry: Registry, name: str) -> list[str]:
    response = registry_get(registry, f"{name}/tags/list")
    if response.status_code == 404:
        return []
    response.raise_for_status()
    return sorted(response.json()["tags"] or [])


def image_config(registry: Registry, name: str, reference: str) -> tuple[str, dict]:
    """(manifest digest, image config) of a tag or digest, read through the registry API."""
    manifest = registry_get(registry, f"{name}/manifests/{reference}", Accept=MANIFEST_V2)
    manifest.raise_for_status()
    config = registry_get(registry, f"{name}/blobs/{manifest.json()['config']['digest']}")
    config.raise_for_status()
    return manifest.headers["Docker-Content-Digest"], config.json()


def assert_no_traceback(run: Run) -> None:
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout, run.stderr


def assert_secret_never_shown(run: Run, secret: str) -> None:
    # The one line allowed to carry it is the mask command, which the runner consumes.
    assert [line for line in run.stdout.splitlines() if secret in line] == [
        f"::add-mask::{secret}"]
    assert secret not in run.stderr
    encoded = base64.b64encode(f"{REGISTRY_USER}:{secret}".encode()).decode()
    files = run.files_text()  # github_output, step summary and the docker config dir
    assert secret not in files and encoded not in files
    # The login stayed in the SDK's memory: the client config file is untouched.
    config_dir = run.workdir / "docker-config"
    assert [p.name for p in config_dir.iterdir()] == ["config.json"]
    assert (config_dir / "config.json").read_text() == EMPTY_DOCKER_CONFIG


def no_smoke_containers(client: DockerClient) -> list[str]:
    return [c.name for c in client.containers.list(all=True) if c.name.startswith("ci-toolkit")]
