"""`ci-toolkit image build` against a real Docker engine: build, cache reuse, the container
check and bad input (pushing to real registries: test_image_push.py).

The engine, the registries and the base image are made by docker_services.py (no image can
be pulled here). The CLI runs in a subprocess with the environment an Actions runner sets,
so exit codes, stdout/stderr, $GITHUB_OUTPUT and the docker client's config directory are
all checked as a workflow would see them (image_runs.py).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.integration.docker_services import (  # noqa: F401  (fixtures used by name)
    DockerEngine,
    Registry,
    docker_client_fixture,
    docker_engine_fixture,
    registry_fixture,
    sdk_base_image_fixture,
)
from tests.integration.image_runs import (  # noqa: F401  (fixtures used by name)
    assert_no_traceback,
    build_steps,
    commit_all,
    git,
    image_config,
    no_smoke_containers,
    project_fixture,
    registry_tags,
    run_image,
    step,
)

if TYPE_CHECKING:
    from docker.client import DockerClient

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_build_smoke_test_push_and_pull_back_by_digest(
    tmp_path: Path, project: Path, docker_engine: DockerEngine, docker_client: DockerClient,
    sdk_base_image: str, registry: Registry,
) -> None:
    sha = git(project, "rev-parse", "HEAD")
    run = run_image(docker_engine, tmp_path / "run", project, "--registry", registry.address,
                    "--image-name", "coffeebot/actions", "--extra-tags", "latest,{branch}",
                    "--platform", "linux/amd64", "--smoke-test", "--contract-tests", "--push")
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
    # The contract tests ran against that container (the example's cases included) first.
    assert outputs["contract_tests"] == "passed"
    results = json.loads(Path(outputs["actions_results"]).read_text(encoding="utf-8"))
    assert results["passed"] and results["counts"]["failed"] == 0
    assert {check["name"] for check in results["checks"]} >= {
        "protocol: action_place_order", "protocol: validate_order_form",
        "unknown action answers 404", "case: places the order that the form collected"}
    assert not results["server"]["started_by_toolkit"]
    assert "Starting action endpoint server" in Path(results["server"]["log_file"]).read_text(
        encoding="utf-8")

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


def test_a_failed_contract_check_stops_the_push_and_names_the_fault(
    tmp_path: Path, project: Path, docker_engine: DockerEngine, docker_client: DockerClient,
    sdk_base_image: str, registry: Registry,
) -> None:
    actions = project / "actions" / "actions.py"
    code = actions.read_text(encoding="utf-8")
    assert code.rstrip().endswith("return []")  # action_place_order's last line
    actions.write_text(code.rstrip()[:-len("return []")]
                       + 'return [{"event": "slot", "name": "colour", "value": "red"}]\n',
                       encoding="utf-8")
    commit_all(project, "set a slot the domain does not declare")
    run = run_image(docker_engine, tmp_path / "run", project, "--registry", registry.address,
                    "--image-name", "coffeebot/contract", "--contract-tests", "--push")
    assert run.returncode == 1, run.stderr
    assert_no_traceback(run)
    assert "action contract check(s) of" in run.stderr and "so it was not pushed" in run.stderr
    assert run.outputs["contract_tests"] == "failed"
    results = json.loads(Path(run.outputs["actions_results"]).read_text(encoding="utf-8"))
    failed = [check for check in results["checks"] if check["status"] == "failed"]
    assert failed[0]["name"] == "protocol: action_place_order"
    assert "sets the slot 'colour', which the domain does not declare" in (
        failed[0]["findings"][0]["message"])
    assert registry_tags(registry, "coffeebot/contract") == []
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
