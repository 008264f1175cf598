"""What goes into the build: the context archive, the Dockerfile and the build arguments.

The context is the assistant project itself, filtered by the shipped .dockerignore and then
the project's own. ci-toolkit adds two files to the archive it sends, never to the user's
directory: the Dockerfile and the requirements (an empty file when the project has none),
under ``.ci-toolkit/``. So "no requirements" needs no placeholder file in the repository.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ci_toolkit.errors import UsageError

STAGING_DIR = ".ci-toolkit"
STAGED_DOCKERFILE = f"{STAGING_DIR}/Dockerfile"
STAGED_REQUIREMENTS = f"{STAGING_DIR}/requirements.txt"
NO_REQUIREMENTS = "# ci-toolkit: the project has no requirements file for its actions.\n"


@dataclass(frozen=True)
class BuildInputs:
    """Everything a build needs, checked: paths exist and sit where they must."""

    context: Path
    dockerfile: Path
    actions_directory: Path
    requirements_file: Path | None
    build_args: dict[str, str] = field(default_factory=dict)
    platform: str | None = None

    def __post_init__(self) -> None:
        # Before the engine is asked anything: a Dockerfile that cannot build here says
        # which line to change.
        problems = dockerfile_problems(self)
        if problems:
            raise UsageError(f"The Dockerfile {self.dockerfile} cannot be built by ci-toolkit "
                             "as it is:\n" + "\n".join(f"- {line}" for line in problems))

    @property
    def actions_in_context(self) -> str:
        return self.actions_directory.relative_to(self.context).as_posix()


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def resolve_inputs(
    *,
    context: Path,
    dockerfile: Path,
    actions_directory: Path | None,
    requirements_file: Path | None,
) -> tuple[Path, Path, Path, Path | None]:
    """Check the paths of a build and fill in the defaults.

    The requirements file is optional: an explicit path must exist (a typo must not silently
    build an image without its packages), otherwise ``<actions>/requirements.txt`` is used
    when it is a file. Relative paths are relative to the context.
    """
    context = context.resolve()
    if not context.is_dir():
        raise UsageError(f"The build context {context} is not a directory (--context).")

    def under_context(path: Path) -> Path:
        return (path if path.is_absolute() else context / path).resolve()

    dockerfile = under_context(dockerfile)
    if not dockerfile.is_file():
        raise UsageError(
            f"The Dockerfile {dockerfile} does not exist. Fix --dockerfile "
            "(CI_TOOLKIT_DOCKERFILE), or leave it empty to use ci-toolkit's own Dockerfile."
        )
    actions = under_context(actions_directory or Path("actions"))
    if not actions.is_dir():
        raise UsageError(
            f"The actions directory {actions} does not exist. The image is built from your "
            "custom actions: point --actions-directory (CI_TOOLKIT_ACTIONS_DIRECTORY) at the "
            "package that holds them."
        )
    if not _inside(actions, context):
        raise UsageError(
            f"The actions directory {actions} is outside the build context {context}. "
            "Docker can only copy files from inside the context: move it or widen --context."
        )
    if not (actions / "__init__.py").is_file():
        raise UsageError(
            f"{actions} has no __init__.py, so the action server cannot import it as the "
            "`actions` package. Add an empty actions/__init__.py."
        )
    requirements: Path | None
    if requirements_file is not None:
        requirements = under_context(requirements_file)
        if not requirements.is_file():
            raise UsageError(
                f"The requirements file {requirements} does not exist. Fix "
                "--requirements-file (CI_TOOLKIT_REQUIREMENTS_FILE), or leave it empty to use "
                "actions/requirements.txt when there is one."
            )
    else:
        default = actions / "requirements.txt"
        requirements = default if default.is_file() else None
    return context, dockerfile, actions, requirements


# RasaHQ/action-server-gha copied the actions and their requirements to ./tmp/ before it built;
# ci-toolkit builds from the project itself and stages the requirements under .ci-toolkit/.
_ASG_STAGED = {"tmp/actions": None, "tmp/requirements.txt": STAGED_REQUIREMENTS}
_ARG = re.compile(r"^ARG\s+(.+)$", re.I)
_COPY = re.compile(r"^(COPY|ADD)\s+(.+)$", re.I)
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def _instructions(dockerfile: Path) -> list[tuple[int, str]]:
    """(first line number, instruction) with continuation lines joined and comments dropped."""
    found: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(dockerfile.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):  # docker drops comments inside continuations too
            continue
        start, text = pending if pending else (number, "")
        text = f"{text} {line.rstrip(chr(92)).strip()}".strip()
        pending = (start, text) if line.endswith("\\") else None
        if pending is None:
            found.append((start, text))
    if pending is not None:
        found.append(pending)
    return found


def _unset_args(instructions: list[tuple[int, str]],
                inputs: BuildInputs) -> list[tuple[int, str, str]]:
    """(line, instruction, name) of each ARG before the first FROM that a FROM uses, with no
    default and no build argument to set it: the FROM would name no image."""
    used_by_from = {name for _, text in instructions if text.upper().startswith("FROM ")
                    for name in _VARIABLE.findall(text)}
    unset: list[tuple[int, str, str]] = []
    for number, text in instructions:
        if text.upper().startswith("FROM "):
            break
        arg = _ARG.match(text)
        for item in (arg.group(1).split() if arg else ()):
            name, equals, _ = item.partition("=")
            if not equals and name in used_by_from and name not in inputs.build_args:
                unset.append((number, text, name))
    return unset


def _copy_problem(number: int, text: str, inputs: BuildInputs) -> str | None:
    words = _COPY.match(text)
    if words is None:
        return None
    parts = [word for word in words.group(2).split() if not word.startswith("--")]
    if len(parts) < 2 or "--from" in text:
        return None
    for source in parts[:-1]:
        relative = posixpath.normpath(source).lstrip("/")
        if relative not in _ASG_STAGED or (inputs.context / relative).exists():
            continue
        ours = _ASG_STAGED[relative] or inputs.actions_in_context
        return (f"line {number}: `{text}` copies {source}, which action-server-gha staged "
                "before its build and this build context does not have. Change the line to "
                f"`{words.group(1).upper()} ./{ours} {parts[-1]}`.")
    return None


def dockerfile_problems(inputs: BuildInputs) -> list[str]:
    """What keeps a Dockerfile written for RasaHQ/action-server-gha from building here, one
    line to change each: an ARG the FROM needs without a default nor a value, and COPY
    sources under ./tmp/ that action-server-gha created."""
    from ci_toolkit.image.request import DEFAULT_RASA_SDK_VERSION

    if not inputs.dockerfile.is_file():
        return []  # resolve_inputs says so
    instructions = _instructions(inputs.dockerfile)
    problems: list[str] = []
    for number, text, name in _unset_args(instructions, inputs):
        sdk = name == "RASA_SDK_VERSION"
        problems.append(
            f"line {number}: `{text}` has no default and nothing sets it (action-server-gha "
            "always passed it). Change the line to "
            f"`ARG {name}={DEFAULT_RASA_SDK_VERSION if sdk else '<value>'}`"
            + (" (the rasa-sdk of your rasa's minor version), or set rasa_sdk_version "
               "(--rasa-sdk-version)." if sdk else ", or pass it in docker_build_args."))
    problems += [problem for number, text in instructions
                 if (problem := _copy_problem(number, text, inputs)) is not None]
    return problems


def read_ignore_file(path: Path) -> list[str]:
    """The patterns of a .dockerignore file, as docker reads them (comments dropped)."""
    if not path.is_file():
        return []
    return [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def context_patterns(context: Path, shipped_ignore: Path | None) -> list[str]:
    # The shipped patterns first, so that the project's own lines (including `!keep`) win.
    patterns = read_ignore_file(shipped_ignore) if shipped_ignore else []
    return patterns + read_ignore_file(context / ".dockerignore")


def context_files(context: Path, patterns: Sequence[str]) -> list[str]:
    from docker.utils.build import exclude_paths

    # exclude_paths appends a keep-the-Dockerfile pattern; ours is not in the directory.
    return sorted(exclude_paths(str(context), list(patterns), dockerfile=STAGED_DOCKERFILE))


def context_archive(inputs: BuildInputs, patterns: Sequence[str]) -> IO[bytes]:
    """A tar of the filtered context plus the staged Dockerfile and requirements."""
    from docker.utils.build import create_archive

    requirements = (
        inputs.requirements_file.read_text(encoding="utf-8")
        if inputs.requirements_file is not None
        else NO_REQUIREMENTS
    )
    files = [
        name for name in context_files(inputs.context, patterns)
        if name != STAGING_DIR and not name.startswith(STAGING_DIR + "/")
    ]
    return create_archive(
        root=str(inputs.context),
        files=files,
        extra_files=[
            (STAGED_DOCKERFILE, inputs.dockerfile.read_text(encoding="utf-8")),
            (STAGED_REQUIREMENTS, requirements),
        ],
    )


def parse_build_args(values: Sequence[str]) -> dict[str, str]:
    """``KEY=VALUE`` items; tolerates RasaHQ/action-server-gha's ``--build-arg K=V`` style."""
    args: dict[str, str] = {}
    for item in values:
        if item in ("--build-arg", ""):
            continue
        item = item.removeprefix("--build-arg=")
        key, equals, value = item.partition("=")
        if not equals or not key.strip() or any(c.isspace() for c in key):
            raise UsageError(
                f"The build argument '{item}' is not KEY=VALUE. Example: "
                "--build-arg PIP_INDEX_URL=https://pypi.example/simple "
                "(CI_TOOLKIT_DOCKER_BUILD_ARGS='A=1 B=2' or '--build-arg A=1 --build-arg B=2')."
            )
        args[key.strip()] = value
    return args


def split_build_args_env(value: str) -> list[str]:
    """Split CI_TOOLKIT_DOCKER_BUILD_ARGS like a shell would, so quoted values keep spaces."""
    try:
        return shlex.split(value)
    except ValueError as error:
        raise UsageError(f"CI_TOOLKIT_DOCKER_BUILD_ARGS could not be split: {error}.") from error


def standard_build_args(
    *,
    inputs_actions: str,
    rasa_sdk_version: str | None,
    base_image: str | None,
    revision: str,
    source: str,
    created: str,
    github_ref: str,
    image_name: str,
    image_tag: str,
) -> dict[str, str]:
    """The build arguments that ci-toolkit's Dockerfile declares (and ASG's that it passed)."""
    args = {
        "ACTIONS_DIRECTORY": inputs_actions,
        "REQUIREMENTS_FILE": STAGED_REQUIREMENTS,
        "REVISION": revision,
        "SOURCE": source,
        "CREATED": created,
        "GITHUB_SHA": revision,
        "GITHUB_REF": github_ref,
        "DOCKER_IMAGE_NAME": image_name,
        "DOCKER_IMAGE_TAG": image_tag,
    }
    # Only when asked: otherwise the Dockerfile's own pinned default applies.
    if rasa_sdk_version:
        args["RASA_SDK_VERSION"] = rasa_sdk_version
    if base_image:
        args["BASE_IMAGE"] = base_image
    return args


def merge_build_args(standard: Mapping[str, str], user: Mapping[str, str]) -> dict[str, str]:
    # The user's explicit build arguments win over the computed ones.
    return {**standard, **user}
