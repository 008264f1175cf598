"""What a build sends: checked paths, the context archive, build arguments, the Dockerfile."""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

import pytest

from ci_toolkit.errors import UsageError
from ci_toolkit.image.context import (
    NO_REQUIREMENTS,
    STAGED_DOCKERFILE,
    STAGED_REQUIREMENTS,
    BuildInputs,
    context_archive,
    context_patterns,
    parse_build_args,
    resolve_inputs,
    split_build_args_env,
    standard_build_args,
)
from ci_toolkit.image.request import DEFAULT_RASA_SDK_VERSION
from ci_toolkit.resources import shipped_path

DOCKER_DIR = shipped_path("docker")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "bot"
    (root / "actions").mkdir(parents=True)
    (root / "actions" / "__init__.py").write_text("")
    (root / "actions" / "actions.py").write_text("# actions\n")
    (root / "domain.yml").write_text("version: '3.1'\n")
    return root


def resolve(project: Path, **overrides: object) -> tuple[Path, Path, Path, Path | None]:
    settings: dict[str, object] = {"context": project, "dockerfile": DOCKER_DIR / "Dockerfile",
                                   "actions_directory": None, "requirements_file": None}
    settings.update(overrides)
    return resolve_inputs(**settings)  # type: ignore[arg-type]


def test_requirements_default_to_the_actions_file_only_when_it_exists(project: Path) -> None:
    assert resolve(project)[3] is None
    (project / "actions" / "requirements.txt").write_text("requests==2.31.0\n")
    assert resolve(project)[3] == project / "actions" / "requirements.txt"


def test_an_explicit_requirements_file_that_is_missing_is_a_usage_error(project: Path) -> None:
    with pytest.raises(UsageError, match=r"requirements file .*requirements-actions.txt does not "
                                         r"exist\. Fix --requirements-file"):
        resolve(project, requirements_file=Path("requirements-actions.txt"))


@pytest.mark.parametrize(("overrides", "message"), [
    ({"dockerfile": Path("docker/Nope")}, r"The Dockerfile .*docker/Nope does not exist"),
    ({"actions_directory": Path("src/actions")}, r"actions directory .*src/actions does not exist"),
    ({"actions_directory": Path("/")}, "outside the build context"),
])
def test_bad_paths_are_usage_errors(project: Path, overrides: dict[str, object],
                                    message: str) -> None:
    with pytest.raises(UsageError, match=message):
        resolve(project, **overrides)


def test_actions_without_init_cannot_be_imported_as_a_package(project: Path) -> None:
    (project / "actions" / "__init__.py").unlink()
    with pytest.raises(UsageError, match=r"has no __init__\.py"):
        resolve(project)


def archive_members(project: Path, requirements: Path | None) -> dict[str, bytes]:
    inputs = BuildInputs(context=project, dockerfile=DOCKER_DIR / "Dockerfile",
                         actions_directory=project / "actions", requirements_file=requirements)
    patterns = context_patterns(project, DOCKER_DIR / ".dockerignore")
    with context_archive(inputs, patterns) as tar_file, tarfile.open(fileobj=tar_file) as tar:
        return {member.name: tar.extractfile(member).read()  # type: ignore[union-attr]
                for member in tar.getmembers() if member.isfile()}


def test_the_archive_holds_the_project_but_not_models_caches_or_secrets(project: Path) -> None:
    for junk in ("models/20240101-model.tar.gz", ".rasa/cache/x", ".venv/bin/python",
                 ".git/HEAD", "actions/__pycache__/actions.cpython-310.pyc", ".env",
                 "results/report.json", ".ci-toolkit/cache/stage.json"):
        (project / junk).parent.mkdir(parents=True, exist_ok=True)
        (project / junk).write_text("junk")
    members = archive_members(project, None)
    assert {"actions/__init__.py", "actions/actions.py", "domain.yml"} <= set(members)
    assert not [name for name in members if name.startswith(
        ("models", ".rasa", ".venv", ".git", "results", "actions/__pycache__", ".env"))]
    # The staged files: ci-toolkit's Dockerfile and an empty requirements file.
    assert members[STAGED_DOCKERFILE] == (DOCKER_DIR / "Dockerfile").read_bytes()
    assert members[STAGED_REQUIREMENTS] == NO_REQUIREMENTS.encode()
    assert not (project / STAGED_REQUIREMENTS).exists()


def test_the_projects_own_dockerignore_wins(project: Path) -> None:
    (project / "models").mkdir()
    (project / "models" / "keep.txt").write_text("needed")
    (project / "notes.md").write_text("private")
    (project / ".dockerignore").write_text("# ours\nnotes.md\n!models/keep.txt\n")
    members = archive_members(project, None)
    assert "models/keep.txt" in members
    assert "notes.md" not in members


def test_the_requirements_are_staged_from_wherever_they_live(project: Path,
                                                             tmp_path: Path) -> None:
    outside = tmp_path / "requirements-actions.txt"
    outside.write_text("requests==2.31.0\n")
    assert archive_members(project, outside)[STAGED_REQUIREMENTS] == b"requests==2.31.0\n"


def test_build_args_accept_key_value_and_action_server_gha_style() -> None:
    env_value = "--build-arg A=1 --build-arg 'GREETING=hello world' B="
    assert parse_build_args(split_build_args_env(env_value)) == {
        "A": "1", "GREETING": "hello world", "B": ""}
    with pytest.raises(UsageError, match="is not KEY=VALUE"):
        parse_build_args(["JUSTAKEY"])
    with pytest.raises(UsageError, match="could not be split"):
        split_build_args_env("A='unterminated")


def test_the_sdk_version_is_passed_only_when_asked() -> None:
    common = {"inputs_actions": "actions", "base_image": None, "revision": "abc",
              "source": "", "created": "2024-01-01T00:00:00Z", "github_ref": "",
              "image_name": "r/n", "image_tag": "t"}
    assert "RASA_SDK_VERSION" not in standard_build_args(rasa_sdk_version=None, **common)
    args = standard_build_args(rasa_sdk_version="3.6.2", **common)
    assert args["RASA_SDK_VERSION"] == "3.6.2"
    assert args["REQUIREMENTS_FILE"] == STAGED_REQUIREMENTS
    assert args["REVISION"] == args["GITHUB_SHA"] == "abc"


def dockerfile_instructions() -> list[str]:
    text = (DOCKER_DIR / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line.strip() for line in joined.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_the_dockerfile_pins_the_sdk_the_command_documents() -> None:
    assert dockerfile_instructions()[0] == f"ARG RASA_SDK_VERSION={DEFAULT_RASA_SDK_VERSION}"


def test_the_dockerfile_puts_requirements_before_code_and_labels_last() -> None:
    steps = dockerfile_instructions()

    def index(prefix: str) -> int:
        return next(i for i, step in enumerate(steps) if step.startswith(prefix))

    assert index("COPY ${REQUIREMENTS_FILE}") < index("RUN python -m pip install") \
        < index("COPY --chown=1001:0 ${ACTIONS_DIRECTORY}")
    # Arguments that change with every commit come after every layer.
    assert index("ARG REVISION") > index("COPY --chown=1001:0 ${ACTIONS_DIRECTORY}")
    assert steps[-1].startswith("LABEL org.opencontainers.image.revision=\"${REVISION}\"")
    for label in ("revision", "source", "created"):
        assert f"org.opencontainers.image.{label}=" in steps[-1]
    users = [step for step in steps if step.startswith("USER ")]
    assert users[-1] == "USER 1001"
    healthcheck = next(step for step in steps if step.startswith("HEALTHCHECK"))
    assert "/health" in healthcheck and "curl" not in healthcheck
    assert "latest" not in steps[0]


# --- a Dockerfile written for RasaHQ/action-server-gha: each problem names its one line -------

ASG_DOCKERFILE = """ARG RASA_SDK_VERSION
# Extend the official Rasa SDK image
FROM rasa/rasa-sdk:${RASA_SDK_VERSION}
WORKDIR /app
USER root
COPY  ./tmp/requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -r /tmp/requirements.txt
COPY ./tmp/actions /app/actions
USER 1001
"""
ARG_FIX = f"ARG RASA_SDK_VERSION={DEFAULT_RASA_SDK_VERSION}"
REQUIREMENTS_FIX = f"COPY ./{STAGED_REQUIREMENTS} /tmp/requirements.txt"
ACTIONS_FIX = "COPY ./actions /app/actions"


def asg_inputs(project: Path, text: str, **build_args: str) -> BuildInputs:
    dockerfile = project / "Dockerfile"
    dockerfile.write_text(text, encoding="utf-8")
    return BuildInputs(context=project, dockerfile=dockerfile,
                       actions_directory=project / "actions", requirements_file=None,
                       build_args=build_args)


@pytest.mark.parametrize(("build_args", "extra_dirs", "lines"), [
    ({}, (), {1: ARG_FIX, 6: REQUIREMENTS_FIX, 8: ACTIONS_FIX}),
    ({"RASA_SDK_VERSION": "3.6.2"}, (), {6: REQUIREMENTS_FIX, 8: ACTIONS_FIX}),
    ({"RASA_SDK_VERSION": "3.6.2"}, ("tmp/actions",), {6: REQUIREMENTS_FIX}),
])
def test_an_action_server_gha_dockerfile_is_refused_naming_each_line_to_change(
        project: Path, build_args: dict[str, str], extra_dirs: tuple[str, ...],
        lines: dict[int, str]) -> None:
    for directory in extra_dirs:
        (project / directory).mkdir(parents=True)
    with pytest.raises(UsageError) as raised:
        asg_inputs(project, ASG_DOCKERFILE, **build_args)
    message = raised.value.message
    assert re.findall(r"line (\d+):", message) == [str(number) for number in lines]
    for fix in lines.values():
        assert f"Change the line to `{fix}`" in message
    # Changing exactly those lines is enough: the same check then finds nothing.
    fixed = ASG_DOCKERFILE.splitlines()
    for number, fix in lines.items():
        fixed[number - 1] = fix
    asg_inputs(project, "\n".join(fixed) + "\n", **build_args)


@pytest.mark.parametrize("text", [
    (DOCKER_DIR / "Dockerfile").read_text(encoding="utf-8"),
    "ARG RASA_SDK_VERSION=3.6.2\nFROM rasa/rasa-sdk:${RASA_SDK_VERSION}\nCOPY ./actions /app/actions\n",
    # An ARG after FROM without a default is not one the FROM needs.
    "FROM rasa/rasa-sdk:3.6.2\nARG RASA_SDK_VERSION\nCOPY --from=base /tmp/actions /app/actions\n",
    "ARG BASE=rasa/rasa-sdk \\\n    TAG\nFROM ${BASE}:3.6.2\n",
])
def test_dockerfiles_that_build_here_pass_the_check(project: Path, text: str) -> None:
    asg_inputs(project, text)


def test_an_unset_arg_other_than_the_sdk_version_asks_for_a_default(project: Path) -> None:
    with pytest.raises(UsageError, match=r"line 1: .*`ARG BASE=<value>`, or pass it in "
                                         r"docker_build_args"):
        asg_inputs(project, "ARG BASE\nFROM ${BASE}\n")
