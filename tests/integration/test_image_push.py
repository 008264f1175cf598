"""`ci-toolkit image build --push` and `image push` against real registries: logins that
leave no trace, refusals, outages and bounded retries.

The engine, the registries and the base image are made by docker_services.py; the CLI runs
as a workflow step runs it (image_runs.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

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
from tests.integration.image_runs import (  # noqa: F401  (fixtures used by name)
    assert_no_traceback,
    assert_secret_never_shown,
    git,
    image_config,
    project_fixture,
    registry_tags,
    run_image,
)

if TYPE_CHECKING:
    from docker.client import DockerClient

pytestmark = [pytest.mark.docker, pytest.mark.slow]


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
