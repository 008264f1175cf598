"""Build and tag the action-server image through the docker SDK (pushing: push.py).

The docker client is made by the command (ci_toolkit.image.workflow) and passed in. Builds use
the engine's classic builder, whose streamed log names every step ("Step 3/9 : RUN ...") and
says when a step came from the cache (" ---> Using cache"); both are parsed here so that a
failure names its step and a caller can see which layers were reused.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.image.context import STAGED_DOCKERFILE, BuildInputs
from ci_toolkit.image.names import ImageNames
from ci_toolkit.proc import Console, strip_ansi

if TYPE_CHECKING:
    from docker.client import DockerClient

LABEL = "image"
_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_SUCCESS = re.compile(r"^Successfully built ([0-9a-f]{12,64})$")
# The archive carries the staged Dockerfile; intermediate containers go even when a step fails.
_FIXED_BUILD_OPTIONS: dict[str, Any] = {"custom_context": True, "dockerfile": STAGED_DOCKERFILE,
                                        "rm": True, "forcerm": True, "decode": True}


@dataclass
class BuildStep:
    number: int
    total: int
    instruction: str
    cached: bool = False


@dataclass
class BuildResult:
    image_id: str
    steps: list[BuildStep] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def step(self, instruction_prefix: str) -> BuildStep | None:
        """The first step whose instruction starts with the prefix (case-insensitive)."""
        for step in self.steps:
            if step.instruction.lower().startswith(instruction_prefix.lower()):
                return step
        return None

    @property
    def cached_steps(self) -> int:
        return sum(step.cached for step in self.steps)


class BuildLog:
    """Turns the engine's JSON stream into whole lines, steps and errors."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.started = time.monotonic()
        self.result = BuildResult(image_id="")
        self._partial = ""

    @property
    def current_step(self) -> BuildStep | None:
        return self.result.steps[-1] if self.result.steps else None

    def feed(self, chunk: Mapping[str, Any]) -> None:
        if "stream" in chunk:
            self._partial += str(chunk["stream"])
            *lines, self._partial = self._partial.split("\n")
            for line in lines:
                self._line(line.rstrip("\r"))
        elif "status" in chunk:  # pulling the base image
            self._line(" ".join(str(chunk[k]) for k in ("id", "status") if chunk.get(k)))
        aux = chunk.get("aux")
        if isinstance(aux, Mapping) and aux.get("ID"):
            self.result.image_id = str(aux["ID"])

    def flush(self) -> None:
        if self._partial.strip():
            self._line(self._partial)
        self._partial = ""

    def _line(self, line: str) -> None:
        self.console.child_line(LABEL, self.started, line)
        line = strip_ansi(line)  # RUN steps' stderr comes wrapped in colour codes
        self.result.log.append(line)
        step = _STEP.match(line.strip())
        if step:
            self.result.steps.append(
                BuildStep(int(step.group(1)), int(step.group(2)), one_line(step.group(3)))
            )
        elif line.strip() == "---> Using cache" and self.current_step is not None:
            self.current_step.cached = True
        success = _SUCCESS.match(line.strip())
        if success and not self.result.image_id:
            self.result.image_id = success.group(1)


def one_line(text: str) -> str:
    # Continued Dockerfile lines arrive joined with runs of spaces.
    return re.sub(r"\s+", " ", text).strip()


def build_failure(message: str, step: BuildStep | None) -> ToolkitError:
    message = one_line(strip_ansi(message)).rstrip(".")
    hint = "The build output above shows the cause."
    if re.search(r"pull access denied|manifest unknown|not found: manifest|repository does not "
                 r"exist|no such image", message, re.IGNORECASE):
        hint = ("Check the base image: --rasa-sdk-version (CI_TOOLKIT_RASA_SDK_VERSION) or "
                "--base-image (CI_TOOLKIT_BASE_IMAGE) must name an image the engine can pull.")
    if step is None:
        return ToolkitError(f"The image build failed before its first step: {message}. {hint}")
    return ToolkitError(
        f"The image build failed at step {step.number}/{step.total} "
        f"({step.instruction}): {message}. {hint}"
    )


def build_image(
    client: DockerClient,
    inputs: BuildInputs,
    context_tar: IO[bytes],
    names: ImageNames,
    *,
    console: Console,
    network_mode: str | None = None,
    no_cache: bool = False,
    pull: bool = False,
) -> BuildResult:
    """Build from the prepared context archive and tag the image with every name."""
    from docker.errors import APIError

    log = BuildLog(console)
    optional = {"network_mode": network_mode, "platform": inputs.platform}
    options = {**_FIXED_BUILD_OPTIONS, **{key: value for key, value in optional.items() if value}}
    try:
        for chunk in client.api.build(fileobj=context_tar, tag=names.full_name,
                                      buildargs=dict(inputs.build_args), nocache=no_cache,
                                      pull=pull, **options):
            if "error" in chunk or "errorDetail" in chunk:
                log.flush()
                detail = chunk.get("errorDetail") or {}
                raise build_failure(str(chunk.get("error") or detail.get("message")),
                                     log.current_step)
            log.feed(chunk)
    except APIError as error:
        log.flush()
        reason = str(error.explanation or error)
        if inputs.platform and "platform" in reason.lower():
            raise UsageError(
                f"The Docker engine cannot build for platform '{inputs.platform}': {reason}. "
                "Leave --platform (CI_TOOLKIT_PLATFORM) empty to build for the engine's own."
            ) from error
        raise build_failure(reason, log.current_step) from error
    log.flush()
    if not log.result.image_id:
        raise ToolkitError(
            "The build ended without an image and without an error from the engine. "
            "The build output above may show why."
        )
    tag_image(client, log.result.image_id, names)
    return log.result


def tag_image(client: DockerClient, image: str, names: ImageNames) -> None:
    """Give a built (or already present) image every tag in ``names``."""
    from docker.errors import APIError, ImageNotFound

    for tag in names.tags:
        try:
            client.api.tag(image, names.repository, tag=tag, force=True)
        except ImageNotFound as error:
            raise ToolkitError(
                f"There is no local image {image}. Build it first with `ci-toolkit image build`."
            ) from error
        except APIError as error:
            raise ToolkitError(
                f"Could not tag {image} as {names.repository}:{tag}: {error.explanation}."
            ) from error


def local_image_id(client: DockerClient, reference: str) -> str | None:
    from docker.errors import ImageNotFound

    try:
        return str(client.api.inspect_image(reference)["Id"])
    except ImageNotFound:
        return None

