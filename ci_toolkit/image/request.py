"""What `ci-toolkit image build` and `image push` are asked to do: one frozen request each.

Every field is declared once with its default, env var and help (``ci_toolkit.options``); the
click options are made from these fields. Env var names follow RasaHQ/action-server-gha's
input names where they mean the same thing (docker_registry -> CI_TOOLKIT_DOCKER_REGISTRY).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ci_toolkit.options import check_seconds, env, setting

# The rasa-sdk that docker/Dockerfile pins by default (a unit test keeps the two equal).
DEFAULT_RASA_SDK_VERSION = "3.6.2"

# Registry login: read from the environment only, never options, so never in argv.
USERNAME_VARS = ("CI_TOOLKIT_REGISTRY_USERNAME", "CI_TOOLKIT_DOCKER_REGISTRY_LOGIN")
PASSWORD_VARS = ("CI_TOOLKIT_REGISTRY_PASSWORD", "CI_TOOLKIT_DOCKER_REGISTRY_PASSWORD")

# Env vars of `image build` whose old names meant something else in other commands:
# new name -> (old name, what the old name means elsewhere). The old name is still read,
# with a deprecation warning, for one release.
RENAMED_ENV_VARS: dict[str, tuple[str, str]] = {
    env("IMAGE_NO_CACHE"): (env("NO_CACHE"), "the stage cache of `ci-toolkit run`"),
    env("CONTAINER_CHECK_TIMEOUT"): (env("SMOKE_TIMEOUT"),
                                     "the deploy smoke test's timeout"),
    env("IMAGE_DOMAIN"): (env("DOMAIN"), "the pipeline's domain path"),
}


def renamed_env_fallback(environ: Mapping[str, str], new: str) -> tuple[str, str] | None:
    """(value, warning) when only the old name of a renamed env var is set, else None.

    Empty values count as unset, as click reads env vars.
    """
    if new not in RENAMED_ENV_VARS or environ.get(new):
        return None
    old, elsewhere = RENAMED_ENV_VARS[new]
    value = environ.get(old)
    if not value:
        return None
    return value, (
        f"{old} is deprecated for `ci-toolkit image build` because it also sets {elsewhere}; "
        f"set {new} instead. {old} is still read in this release and will be ignored from "
        "the next one."
    )


@dataclass(frozen=True)
class PushRequest:
    """How the image is named and pushed: shared by `image build` and `image push`."""

    context: Path = setting(
        Path("."), envvar="CONTEXT",
        help="The assistant project: the build context, where the commit SHA is read from "
             "git, and where relative paths start.")
    registry: str = setting(
        "docker.io", envvar="DOCKER_REGISTRY",
        help="Registry host (and port) the image is named for and pushed to, e.g. ghcr.io or "
             "127.0.0.1:5000.")
    image_name: str = setting(
        "action_server", envvar="DOCKER_IMAGE_NAME",
        help="Repository name inside the registry, e.g. my-org/coffeebot-actions.")
    tag: str | None = setting(
        None, envvar="DOCKER_IMAGE_TAG",
        help="The image tag. [default: the full commit SHA, from GITHUB_SHA or "
             "`git rev-parse HEAD`; a tag that names a commit never moves]")
    short_sha: bool = setting(
        False, envvar="SHORT_SHA", is_flag=True,
        help="Tag with the first 7 characters of the commit SHA instead of all 40.")
    extra_tags: tuple[str, ...] = setting(
        (), envvar="EXTRA_TAGS", multiple=True,
        help="More tags for the same image, comma- or space-separated, e.g. "
             "'latest,{branch}'. {branch} becomes the branch name made tag-safe "
             "(feature/x -> feature-x).")
    push_attempts: int = setting(
        3, envvar="PUSH_ATTEMPTS",
        help="Tries per tag when a push fails for a passing reason (connection refused or "
             "reset, timeouts, HTTP 5xx/429), waiting 2 s, 4 s, ... between.")


@dataclass(frozen=True)
class BuildRequest(PushRequest):
    """The build, and whether to check the container and push afterwards."""

    dockerfile: Path | None = setting(
        None, envvar="DOCKERFILE",
        help="Your own Dockerfile, relative to --context. [default: ci-toolkit's "
             "docker/Dockerfile: rasa/rasa-sdk base, requirements layer, then actions]")
    actions_directory: Path = setting(
        Path("actions"), envvar="ACTIONS_DIRECTORY",
        help="The custom actions package (with __init__.py), inside --context. It becomes "
             "/app/actions in the image.")
    requirements_file: Path | None = setting(
        None, envvar="REQUIREMENTS_FILE",
        help="pip requirements of the actions. An explicit path must exist. "
             "[default: <actions-directory>/requirements.txt if present, else none]")
    rasa_sdk_version: str | None = setting(
        None, envvar="RASA_SDK_VERSION",
        help=f"rasa/rasa-sdk tag to build on; match your rasa's minor version "
             f"(rasa 3.6.x -> 3.6.2). [default: {DEFAULT_RASA_SDK_VERSION}]")
    base_image: str | None = setting(
        None, envvar="BASE_IMAGE",
        help="Whole base image reference, e.g. a mirror's copy of rasa-sdk. Overrides "
             "--rasa-sdk-version.")
    build_args: tuple[str, ...] = setting(
        (), envvar="DOCKER_BUILD_ARGS", multiple=True,
        help="Extra build argument KEY=VALUE (repeatable). The env var takes several, "
             "e.g. 'A=1 B=2' or action-server-gha's '--build-arg A=1 --build-arg B=2'.")
    platform: str | None = setting(
        None, envvar="PLATFORM",
        help="Target platform, e.g. linux/amd64, where the engine supports it. "
             "[default: the engine's]")
    build_network: str | None = setting(
        None, envvar="BUILD_NETWORK",
        help="Network for RUN steps, e.g. 'host' on engines without a bridge network. "
             "[default: the engine's]")
    no_cache: bool = setting(
        False, envvar="IMAGE_NO_CACHE", is_flag=True,
        help="Rebuild every layer instead of reusing cached ones.")
    pull: bool = setting(
        False, envvar="PULL", is_flag=True,
        help="Pull the base image even if the engine has it.")
    push: bool = setting(
        False, envvar="DOCKER_REGISTRY_PUSH",
        help="Push every tag after a successful build (and smoke test).")
    smoke_test: bool = setting(
        False, envvar="SMOKE_TEST",
        help="Run the image, wait for /health and check that /actions lists the expected "
             "actions, before anything is pushed.")
    domain: Path = setting(
        Path("domain.yml"), envvar="IMAGE_DOMAIN",
        help="Domain file or directory, relative to --context: its non-utter_ actions are "
             "what the smoke test expects.")
    expect_actions: tuple[str, ...] = setting(
        (), envvar="EXPECT_ACTIONS", multiple=True,
        help="Action names the smoke test expects, comma- or space-separated, instead of the "
             "domain's.")
    smoke_timeout: float = setting(
        60.0, envvar="CONTAINER_CHECK_TIMEOUT",
        help="Seconds to wait for the action server's /health.")
    smoke_network: str = setting(
        "host", envvar="SMOKE_NETWORK",
        help="Network of the smoke-test container. With 'host' the server listens on "
             "127.0.0.1 of a free port; any other network publishes the port instead.")

    def __post_init__(self) -> None:
        # A wait of nan seconds is no wait at all, one of inf never ends.
        check_seconds(self.smoke_timeout,
                      option=f"--smoke-timeout ({env('CONTAINER_CHECK_TIMEOUT')})")
