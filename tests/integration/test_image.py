"""`ci-toolkit image build/push` against a real Docker engine and real registries.

The engine, the registries and the base image are made by docker_services.py (no image can
be pulled here). The CLI runs in a subprocess with the environment an Actions runner sets,
so exit codes, stdout/stderr, $GITHUB_OUTPUT and the docker client's config directory are
all checked as a workflow would see them.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from ci_toolkit.image.names import ImageNames
from ci_toolkit.image.push import push_image
from ci_toolkit.proc import Console
from tests.integration.docker_services import (  # noqa: F401  (fixtures used by name)
    REGISTRY_PASSWORD,
    REGISTRY_USER,
    DockerEngine,
    Registry,
    auth_registry_fixture,
    docker_client_fixture,
    docker_engine_fixture,
    free_port,
    registry_fixture,
    sdk_base_image_fixture,
    start_registry,
    stop_registry,
)
from tests.rasa_support import EXAMPLE_DIR

if TYPE_CHECKING:
    from docker.client import DockerClient

pytestmark = [pytest.mark.docker, pytest.mark.slow]

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


@pytest.fixture
def project(tmp_path: Path) -> Path:
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


def test_build_smoke_test_push_and_pull_back_by_digest(
    tmp_path: Path, project: Path, docker_engine: DockerEngine, docker_client: DockerClient,
    sdk_base_image: str, registry: Registry,
) -> None:
    sha = git(project, "rev-parse", "HEAD")
    run = run_image(docker_engine, tmp_path / "run", project, "--registry", registry.address,
                    "--image-name", "coffeebot/actions", "--extra-tags", "latest,{branch}",
                    "--platform", "linux/amd64", "--smoke-test", "--push")
    assert run.returncode == 0, run.stderr
    repository = f"{registry.address}/coffeebot/actions"
    outputs = run.outputs
    digest = outputs["docker_image_digest"]
    assert outputs["docker_image_name"] == repository
    assert outputs["docker_image_tag"] == sha
    assert outputs["docker_image_full_name"] == f"{repository}:{sha}"
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
    assert outputs["docker_image_ref"] == f"{repository}@{digest}"
    assert outputs["docker_image_tags"].splitlines() == [
        f"{repository}:{sha}", f"{repository}:latest", f"{repository}:feature-new-form"]
    assert outputs["docker_image_pushed"] == "true"
    assert outputs["smoke_test"] == "passed"
    assert f"docker_image_full_name={repository}:{sha}" in run.stdout.splitlines()
    # The smoke test ran a real rasa-sdk server and saw the domain's custom actions.
    assert "/actions lists: action_place_order, validate_order_form" in run.stderr

    assert registry_tags(registry, "coffeebot/actions") == sorted(
        [sha, "latest", "feature-new-form"])
    for tag in (sha, "latest", "feature-new-form"):
        assert image_config(registry, "coffeebot/actions", tag)[0] == digest
    _, config = image_config(registry, "coffeebot/actions", digest)
    labels = config["config"]["Labels"]
    assert labels["org.opencontainers.image.revision"] == sha
    assert labels["org.opencontainers.image.source"] == "https://github.com/octo-org/coffee-assistant"
    assert labels["org.opencontainers.image.base.name"] == "rasa/rasa-sdk:3.6.2"
    created = datetime.strptime(labels["org.opencontainers.image.created"],
                                "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert created <= datetime.now(timezone.utc) + timedelta(minutes=1)
    assert config["config"]["User"] == "1001"
    assert "/health" in " ".join(config["config"]["Healthcheck"]["Test"])
    assert config["architecture"] == "amd64"

    # Pull back by digest into an engine that no longer has the image.
    image_id = outputs["docker_image_id"]
    docker_client.images.remove(image_id, force=True)
    pulled = docker_client.images.pull(f"{repository}@{digest}")
    assert pulled.id == image_id
    assert no_smoke_containers(docker_client) == []


def test_code_only_change_reuses_the_requirements_layer(
    tmp_path: Path, project: Path, docker_engine: DockerEngine, sdk_base_image: str,
) -> None:
    first = run_image(docker_engine, tmp_path / "first", project, "--tag", "first")
    assert first.returncode == 0, first.stderr

    actions = project / "actions" / "actions.py"
    actions.write_text(actions.read_text(encoding="utf-8") + "\n# a code-only change\n",
                       encoding="utf-8")
    code_only = run_image(docker_engine, tmp_path / "code", project, "--tag", "code-only")
    assert code_only.returncode == 0, code_only.stderr
    steps = build_steps(code_only.stderr)
    assert step(steps, "COPY ${REQUIREMENTS_FILE}") is True
    assert step(steps, "RUN python -m pip install") is True
    assert step(steps, "COPY --chown=1001:0 ${ACTIONS_DIRECTORY}") is False

    # The counter-check: a requirements change does rebuild the requirements layer.
    requirements = project / "actions" / "requirements.txt"
    requirements.write_text("# no packages yet, but the file changed\n", encoding="utf-8")
    changed = run_image(docker_engine, tmp_path / "reqs", project, "--tag", "requirements")
    assert changed.returncode == 0, changed.stderr
    assert step(build_steps(changed.stderr), "RUN python -m pip install") is False


def test_smoke_test_fails_clearly_when_actions_import_a_missing_module(
    tmp_path: Path, project: Path, docker_engine: DockerEngine, docker_client: DockerClient,
    sdk_base_image: str, registry: Registry,
) -> None:
    # A helper module of the actions package needs a package that is not in the image.
    (project / "actions" / "pricing.py").write_text(
        '"""Prices."""\n\nimport ci_toolkit_missing_module  # noqa: F401\n', encoding="utf-8")
    commit_all(project, "import a module that is not installed")
    run = run_image(docker_engine, tmp_path / "run", project, "--registry", registry.address,
                    "--image-name", "coffeebot/broken", "--smoke-test", "--push")
    assert run.returncode == 1
    error = run.stderr.strip().splitlines()[-1]
    assert error.startswith("error: Smoke test of ")
    assert "the action server exited with code 1 before /health answered" in error
    assert "No module named 'ci_toolkit_missing_module'" in error
    # The container's own log is printed, with rasa-sdk's message.
    assert "----- log of the action-server container" in run.stderr
    assert "Failed to register package 'actions'" in run.stderr
    assert "::error::Smoke test of" in run.stdout
    # Nothing was pushed and no container is left behind.
    assert registry_tags(registry, "coffeebot/broken") == []
    assert "docker_image_digest" not in run.outputs
    assert no_smoke_containers(docker_client) == []


def test_smoke_test_fails_when_an_expected_action_is_not_served(
    tmp_path: Path, project: Path, docker_engine: DockerEngine, docker_client: DockerClient,
    sdk_base_image: str,
) -> None:
    run = run_image(docker_engine, tmp_path / "run", project, "--tag", "expect",
                    "--smoke-test", "--expect-actions", "action_place_order,action_refund")
    assert run.returncode == 1
    assert_no_traceback(run)
    assert "/actions does not list action_refund" in run.stderr.strip().splitlines()[-1]
    assert no_smoke_containers(docker_client) == []


def test_login_with_the_right_password_pushes_and_stores_no_credentials(
    tmp_path: Path, project: Path, docker_engine: DockerEngine, sdk_base_image: str,
    auth_registry: Registry,
) -> None:
    run = run_image(docker_engine, tmp_path / "run", project, "--registry",
                    auth_registry.address, "--image-name", "private/actions", "--tag", "v1",
                    "--push", secrets={"CI_TOOLKIT_REGISTRY_USERNAME": REGISTRY_USER,
                                       "CI_TOOLKIT_REGISTRY_PASSWORD": REGISTRY_PASSWORD})
    assert run.returncode == 0, run.stderr
    assert registry_tags(auth_registry, "private/actions") == ["v1"]
    assert_secret_never_shown(run, REGISTRY_PASSWORD)


def test_wrong_password_stops_the_run_before_the_build(
    tmp_path: Path, project: Path, docker_engine: DockerEngine, sdk_base_image: str,
    auth_registry: Registry,
) -> None:
    wrong = "Wrong-Passw0rd-7c21"
    run = run_image(docker_engine, tmp_path / "run", project, "--registry",
                    auth_registry.address, "--image-name", "private/actions", "--tag", "v2",
                    "--push", secrets={"CI_TOOLKIT_REGISTRY_USERNAME": REGISTRY_USER,
                                       "CI_TOOLKIT_REGISTRY_PASSWORD": wrong})
    assert run.returncode == 1
    assert_no_traceback(run)
    error = run.stderr.strip().splitlines()[-1]
    assert error.startswith(f"error: Login to the registry {auth_registry.address} as "
                            f"'{REGISTRY_USER}' failed: ")
    assert "401" in error or "unauthorized" in error.lower()
    assert "Step 1/" not in run.stderr  # nothing was built
    assert "v2" not in registry_tags(auth_registry, "private/actions")
    assert_secret_never_shown(run, wrong)


def test_a_push_without_login_to_a_private_registry_is_refused_without_retries(
    tmp_path: Path, project: Path, docker_engine: DockerEngine, sdk_base_image: str,
    auth_registry: Registry,
) -> None:
    run = run_image(docker_engine, tmp_path / "run", project, "--registry",
                    auth_registry.address, "--image-name", "private/actions", "--tag", "anon",
                    "--push")
    assert run.returncode == 1
    assert_no_traceback(run)
    assert "attempt 2/" not in run.stderr  # refusals are not retried
    assert run.stderr.strip().splitlines()[-1] == (
        f"error: The registry refused the push of {auth_registry.address}/private/actions:anon: "
        "no basic auth credentials. Set CI_TOOLKIT_REGISTRY_USERNAME and "
        "CI_TOOLKIT_REGISTRY_PASSWORD to log in.")


def test_registry_down_fails_after_bounded_retries(
    tmp_path: Path, project: Path, docker_engine: DockerEngine, sdk_base_image: str,
) -> None:
    down = f"127.0.0.1:{free_port()}"
    run = run_image(docker_engine, tmp_path / "run", project, "--registry", down,
                    "--image-name", "coffeebot/actions", "--tag", "down", "--push",
                    "--push-attempts", "2")
    assert run.returncode == 1
    assert_no_traceback(run)
    assert "attempt 2/2" in run.stderr
    error = run.stderr.strip().splitlines()[-1]
    assert error.startswith(f"error: Could not push {down}/coffeebot/actions:down after 2 "
                            "attempts: ")
    assert "connection refused" in error


def test_push_retries_a_transient_failure_until_the_registry_answers(
    docker_client: DockerClient, sdk_base_image: str,
) -> None:
    port = free_port()
    names = ImageNames(repository=f"127.0.0.1:{port}/retry/base", tag="t1")
    docker_client.api.tag(sdk_base_image, names.repository, tag="t1")
    started: list[Registry] = []
    waits: list[float] = []

    def registry_comes_up(seconds: float) -> None:
        waits.append(seconds)
        started.append(start_registry(port=port))  # the "outage" ends during the wait

    try:
        digest = push_image(docker_client, names, credentials=None, console=Console(),
                            attempts=3, backoff_s=0.5, sleep=registry_comes_up)
        assert waits == [0.5]
        assert registry_tags(started[0], "retry/base") == ["t1"]
        assert image_config(started[0], "retry/base", "t1")[0] == digest
    finally:
        for running in started:
            stop_registry(running)


def test_push_command_pushes_an_image_built_earlier(
    tmp_path: Path, project: Path, docker_engine: DockerEngine, sdk_base_image: str,
    registry: Registry,
) -> None:
    naming = ("--registry", registry.address, "--image-name", "coffeebot/later", "--short-sha")
    built = run_image(docker_engine, tmp_path / "build", project, *naming)
    assert built.returncode == 0, built.stderr
    assert built.outputs["docker_image_pushed"] == "false"
    short = git(project, "rev-parse", "HEAD")[:7]
    assert built.outputs["docker_image_tag"] == short

    pushed = run_image(docker_engine, tmp_path / "push", project, *naming,
                       "--extra-tags", "stable", command="push")
    assert pushed.returncode == 0, pushed.stderr
    assert registry_tags(registry, "coffeebot/later") == sorted([short, "stable"])
    assert pushed.outputs["docker_image_digest"].startswith("sha256:")

    missing = run_image(docker_engine, tmp_path / "missing", project, "--registry",
                        registry.address, "--image-name", "coffeebot/later", "--tag", "never",
                        command="push")
    assert missing.returncode == 1
    assert_no_traceback(missing)
    assert f"There is no local image {registry.address}/coffeebot/later:never" in missing.stderr


def test_a_failing_build_step_is_named(
    tmp_path: Path, project: Path, docker_engine: DockerEngine, sdk_base_image: str,
) -> None:
    (project / "actions" / "requirements.txt").write_text("this is not a requirement!!\n",
                                                          encoding="utf-8")
    run = run_image(docker_engine, tmp_path / "run", project, "--tag", "broken")
    assert run.returncode == 1
    assert_no_traceback(run)
    error = run.stderr.strip().splitlines()[-1]
    assert re.match(r"error: The image build failed at step \d+/\d+ \(RUN python -m pip "
                    r"install .*\): The command '/bin/sh -c python -m pip install .*' returned "
                    r"a non-zero code: 1\. The build output above shows the cause\.$", error)
    assert "Invalid requirement" in run.stderr  # pip's own message, streamed


def test_missing_dockerfile_and_missing_requirements_file_are_usage_errors(
    tmp_path: Path, project: Path, docker_engine: DockerEngine,
) -> None:
    no_dockerfile = run_image(docker_engine, tmp_path / "a", project,
                              "--dockerfile", "docker/Dockerfile.missing")
    assert no_dockerfile.returncode == 2
    assert_no_traceback(no_dockerfile)
    assert no_dockerfile.stderr.strip().splitlines()[-1] == (
        f"error: The Dockerfile {project / 'docker/Dockerfile.missing'} does not exist. "
        "Fix --dockerfile (CI_TOOLKIT_DOCKERFILE), or leave it empty to use ci-toolkit's "
        "own Dockerfile.")

    no_requirements = run_image(docker_engine, tmp_path / "b", project,
                                "--requirements-file", "requirements-actions.txt")
    assert no_requirements.returncode == 2
    assert_no_traceback(no_requirements)
    assert no_requirements.stderr.strip().splitlines()[-1].startswith(
        f"error: The requirements file {project / 'requirements-actions.txt'} does not exist.")


def test_requirements_file_is_optional(
    tmp_path: Path, project: Path, docker_engine: DockerEngine, sdk_base_image: str,
) -> None:
    (project / "actions" / "requirements.txt").unlink()
    run = run_image(docker_engine, tmp_path / "run", project, "--tag", "no-requirements",
                    "--smoke-test")
    assert run.returncode == 0, run.stderr
    assert "(requirements: none)" in run.stderr
    # Nothing was staged in the project itself.
    assert not (project / ".ci-toolkit" / "requirements.txt").exists()
    assert git(project, "status", "--porcelain") == "D actions/requirements.txt"
