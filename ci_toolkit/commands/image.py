"""`ci-toolkit image build` and `ci-toolkit image push`: the action-server image.

Option env vars follow RasaHQ/action-server-gha's input names where they mean the same
thing (docker_registry -> CI_TOOLKIT_DOCKER_REGISTRY, ...), and so do the outputs.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ci_toolkit.errors import ToolkitError, UsageError

if TYPE_CHECKING:
    from docker.client import DockerClient

    from ci_toolkit.gha import ActionsRuntime
    from ci_toolkit.image.names import ImageNames
    from ci_toolkit.image.push import RegistryCredentials
    from ci_toolkit.proc import Console

# The rasa-sdk that docker/Dockerfile pins by default (a unit test keeps the two equal).
DEFAULT_RASA_SDK_VERSION = "3.6.2"
USERNAME_VARS = ("CI_TOOLKIT_REGISTRY_USERNAME", "CI_TOOLKIT_DOCKER_REGISTRY_LOGIN")
PASSWORD_VARS = ("CI_TOOLKIT_REGISTRY_PASSWORD", "CI_TOOLKIT_DOCKER_REGISTRY_PASSWORD")
ENV_VARS_READ: tuple[str, ...] = (
    *USERNAME_VARS, *PASSWORD_VARS,
    "DOCKER_HOST", "GITHUB_SHA", "GITHUB_REF", "GITHUB_REF_NAME", "GITHUB_HEAD_REF",
    "GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "SOURCE_DATE_EPOCH",
    "GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY",
)
ENGINE_TIMEOUT_S = 900  # a silent `pip install` of a big package can take minutes


def _env(name: str) -> str:
    return f"CI_TOOLKIT_{name}"


def _option(*names: str, **settings: Any) -> Callable[[Any], Any]:
    # Show each option's env var in --help: the actions set options through them.
    return click.option(*names, show_envvar=True, **settings)


class BuildArgType(click.ParamType):
    """KEY=VALUE; the env var is split like a shell line, so ASG's value style works too."""

    name = "KEY=VALUE"

    def split_envvar_value(self, rv: str) -> Sequence[str]:
        from ci_toolkit.image.context import split_build_args_env

        return split_build_args_env(rv)


def _options(*decorators: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def apply(function: Any) -> Any:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function
    return apply


naming_options = _options(
    _option("--context", type=click.Path(file_okay=False, path_type=Path), default=".",
                 show_default=True, envvar=_env("CONTEXT"),
                 help="The assistant project: the build context, where the commit SHA is "
                      "read from git, and where relative paths start."),
    _option("--registry", default="docker.io", show_default=True,
                 envvar=_env("DOCKER_REGISTRY"),
                 help="Registry host (and port) the image is named for and pushed to, e.g. "
                      "ghcr.io or 127.0.0.1:5000."),
    _option("--image-name", default="action_server", show_default=True,
                 envvar=_env("DOCKER_IMAGE_NAME"),
                 help="Repository name inside the registry, e.g. my-org/coffeebot-actions."),
    _option("--tag", envvar=_env("DOCKER_IMAGE_TAG"),
                 help="The image tag. [default: the full commit SHA, from GITHUB_SHA or "
                      "`git rev-parse HEAD`; a tag that names a commit never moves]"),
    _option("--short-sha", is_flag=True, envvar=_env("SHORT_SHA"),
                 help="Tag with the first 7 characters of the commit SHA instead of all 40."),
    _option("--extra-tags", multiple=True, envvar=_env("EXTRA_TAGS"),
                 help="More tags for the same image, comma- or space-separated, e.g. "
                      "'latest,{branch}'. {branch} becomes the branch name made tag-safe "
                      "(feature/x -> feature-x)."),
    _option("--push-attempts", type=click.IntRange(min=1), default=3, show_default=True,
                 envvar=_env("PUSH_ATTEMPTS"),
                 help="Tries per tag when a push fails for a passing reason (connection "
                      "refused or reset, timeouts, HTTP 5xx/429), waiting 2 s, 4 s, ... between."),
)


def _read_credentials(environ: Mapping[str, str], actions: ActionsRuntime,
                      ) -> RegistryCredentials | None:
    """Registry login from the environment only: never options, so never in argv."""
    from ci_toolkit.image.push import RegistryCredentials

    def first(names: Sequence[str]) -> str:
        return next((environ[n] for n in names if environ.get(n)), "")

    username, password = first(USERNAME_VARS), first(PASSWORD_VARS)
    actions.add_mask(password)
    if not username and not password:
        return None
    if not username or not password:
        missing = USERNAME_VARS[0] if not username else PASSWORD_VARS[0]
        raise UsageError(
            f"Registry login needs both a user name and a password, but {missing} is empty. "
            f"Set both (or neither, to push with the engine's existing login)."
        )
    return RegistryCredentials(username=username, password=password)


def _engine_unreachable(where: str, reason: str) -> ToolkitError:
    return ToolkitError(
        f"Cannot reach the Docker engine at {where}: {reason}. Start Docker, or set "
        "DOCKER_HOST to a running engine's socket."
    )


def _docker_client() -> DockerClient:
    """The one docker client of a command: DOCKER_HOST etc. as the docker CLI reads them."""
    from docker.client import DockerClient
    from docker.errors import DockerException

    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if host.startswith("unix://"):
        # Knock first: the SDK leaves a socket open when its first connection fails.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(10)
            try:
                probe.connect(host.removeprefix("unix://"))
            except OSError as error:
                raise _engine_unreachable(host, error.strerror or str(error)) from error
    try:
        return DockerClient.from_env(timeout=ENGINE_TIMEOUT_S)
    except DockerException as error:
        reason = re.sub(r"^Error while fetching server API version: ", "", str(error))
        raise _engine_unreachable(host, reason) from error


def _names(context: Path, registry: str, image_name: str, tag: str | None, short_sha: bool,
           extra_tags: Sequence[str]) -> ImageNames:
    from ci_toolkit.image.names import resolve_names, split_list

    return resolve_names(registry=registry, image_name=image_name, tag=tag, short_sha=short_sha,
                         extra_tags=split_list(extra_tags), context=context,
                         environ=os.environ)


def _check_sdk_version(context: Path, rasa_sdk_version: str | None, custom_base: bool,
                       console: Console, actions: ActionsRuntime) -> None:
    from ci_toolkit.pipeline.project import pinned_rasa_version

    version = rasa_sdk_version or DEFAULT_RASA_SDK_VERSION
    warning = None
    if version == "latest":
        warning = ("rasa-sdk 'latest' moves under you and has broken action servers before "
                   "(RasaHQ/rasa-sdk#153). Pin a version with --rasa-sdk-version.")
    elif not custom_base:
        rasa = pinned_rasa_version(context)
        if rasa and rasa.split(".")[:2] != version.split(".")[:2]:
            warning = (f"The project pins rasa {rasa} but the image is built on rasa-sdk "
                       f"{version}. Use the rasa-sdk of the same minor version "
                       "(--rasa-sdk-version / CI_TOOLKIT_RASA_SDK_VERSION).")
    if warning:
        console.line(f"warning: {warning}")
        actions.annotate("warning", warning, title="ci-toolkit image")


def _publish(outputs: Mapping[str, str], actions: ActionsRuntime) -> None:
    for name, value in outputs.items():
        click.echo(f"{name}={value.replace(chr(10), ' ')}")
    actions.set_outputs(outputs)
    rows = "\n".join(f"| `{name}` | `{value.replace(chr(10), ' ')}` |"
                     for name, value in outputs.items() if value)
    actions.append_step_summary(f"### Action-server image\n\n| Output | Value |\n|---|---|\n{rows}")


def _outputs(names: ImageNames, image_id: str, digest: str | None,
             smoke: str) -> dict[str, str]:
    return {
        "docker_image_name": names.repository,
        "docker_image_tag": names.tag,
        "docker_image_full_name": names.full_name,
        "docker_image_digest": digest or "",
        "docker_image_ref": f"{names.repository}@{digest}" if digest else names.full_name,
        "docker_image_tags": "\n".join(names.references),
        "docker_image_id": image_id,
        "docker_image_pushed": "true" if digest else "false",
        "smoke_test": smoke,
    }


def _push(client: DockerClient, names: ImageNames, credentials: RegistryCredentials | None,
          attempts: int, console: Console) -> str:
    from ci_toolkit.image.push import push_image

    digest = push_image(client, names, credentials=credentials, console=console,
                        attempts=attempts)
    console.line(f"[image] pushed {', '.join(names.references)} ({digest})")
    return digest


@click.group()
def image() -> None:
    """Build, push and smoke-test the action-server image.

    \b
    The image is built with the docker SDK from the assistant project (the build context),
    on rasa/rasa-sdk at a pinned version, tagged with the commit SHA, and pushed with
    retries. Registry login comes only from the environment:
      CI_TOOLKIT_REGISTRY_USERNAME / CI_TOOLKIT_REGISTRY_PASSWORD
      (or action-server-gha's CI_TOOLKIT_DOCKER_REGISTRY_LOGIN / _PASSWORD).
    The engine is found through DOCKER_HOST, as the docker CLI does.
    """


@image.command()
@naming_options
@_option("--dockerfile", type=click.Path(dir_okay=False, path_type=Path),
              envvar=_env("DOCKERFILE"),
              help="Your own Dockerfile, relative to --context. [default: ci-toolkit's "
                   "docker/Dockerfile: rasa/rasa-sdk base, requirements layer, then actions]")
@_option("--actions-directory", type=click.Path(file_okay=False, path_type=Path),
              default=Path("actions"), show_default=True, envvar=_env("ACTIONS_DIRECTORY"),
              help="The custom actions package (with __init__.py), inside --context. It "
                   "becomes /app/actions in the image.")
@_option("--requirements-file", type=click.Path(dir_okay=False, path_type=Path),
              envvar=_env("REQUIREMENTS_FILE"),
              help="pip requirements of the actions. An explicit path must exist. "
                   "[default: <actions-directory>/requirements.txt if present, else none]")
@_option("--rasa-sdk-version", envvar=_env("RASA_SDK_VERSION"),
              help=f"rasa/rasa-sdk tag to build on; match your rasa's minor version "
                   f"(rasa 3.6.x -> 3.6.2). [default: {DEFAULT_RASA_SDK_VERSION}]")
@_option("--base-image", envvar=_env("BASE_IMAGE"),
              help="Whole base image reference, e.g. a mirror's copy of rasa-sdk. Overrides "
                   "--rasa-sdk-version.")
@_option("--build-arg", "build_args", type=BuildArgType(), multiple=True,
              envvar=_env("DOCKER_BUILD_ARGS"),
              help="Extra build argument KEY=VALUE (repeatable). The env var takes several, "
                   "e.g. 'A=1 B=2' or action-server-gha's '--build-arg A=1 --build-arg B=2'.")
@_option("--platform", envvar=_env("PLATFORM"),
              help="Target platform, e.g. linux/amd64, where the engine supports it. "
                   "[default: the engine's]")
@_option("--build-network", envvar=_env("BUILD_NETWORK"),
              help="Network for RUN steps, e.g. 'host' on engines without a bridge network. "
                   "[default: the engine's]")
@_option("--no-cache", is_flag=True, envvar=_env("NO_CACHE"),
              help="Rebuild every layer instead of reusing cached ones.")
@_option("--pull", is_flag=True, envvar=_env("PULL"),
              help="Pull the base image even if the engine has it.")
@_option("--push/--no-push", default=False, show_default=True,
              envvar=_env("DOCKER_REGISTRY_PUSH"),
              help="Push every tag after a successful build (and smoke test).")
@_option("--smoke-test/--no-smoke-test", default=False, show_default=True,
              envvar=_env("SMOKE_TEST"),
              help="Run the image, wait for /health and check that /actions lists the "
                   "expected actions, before anything is pushed.")
@_option("--domain", type=click.Path(path_type=Path), default=Path("domain.yml"),
              show_default=True, envvar=_env("DOMAIN"),
              help="Domain file or directory, relative to --context: its non-utter_ actions "
                   "are what the smoke test expects.")
@_option("--expect-actions", multiple=True, envvar=_env("EXPECT_ACTIONS"),
              help="Action names the smoke test expects, comma- or space-separated, instead "
                   "of the domain's.")
@_option("--smoke-timeout", type=click.FloatRange(min=1), default=60.0, show_default=True,
              envvar=_env("SMOKE_TIMEOUT"),
              help="Seconds to wait for the action server's /health.")
@_option("--smoke-network", default="host", show_default=True,
              envvar=_env("SMOKE_NETWORK"),
              help="Network of the smoke-test container. With 'host' the server listens on "
                   "127.0.0.1 of a free port; any other network publishes the port instead.")
def build(context: Path, registry: str, image_name: str, tag: str | None, short_sha: bool,
          extra_tags: tuple[str, ...], push_attempts: int, dockerfile: Path | None,
          actions_directory: Path, requirements_file: Path | None,
          rasa_sdk_version: str | None, base_image: str | None, build_args: tuple[str, ...],
          platform: str | None, build_network: str | None, no_cache: bool, pull: bool,
          push: bool, smoke_test: bool, domain: Path, expect_actions: tuple[str, ...],
          smoke_timeout: float, smoke_network: str) -> None:
    """Build the action-server image; optionally smoke-test and push it."""
    import requests

    from ci_toolkit.gha import ActionsRuntime
    from ci_toolkit.image.build import build_image
    from ci_toolkit.image.container_check import custom_actions_in_domain
    from ci_toolkit.image.container_check import smoke_test as run_smoke_test
    from ci_toolkit.image.context import (
        BuildInputs,
        context_archive,
        context_patterns,
        merge_build_args,
        parse_build_args,
        resolve_inputs,
        standard_build_args,
    )
    from ci_toolkit.image.names import created_timestamp, source_url, split_list
    from ci_toolkit.image.push import login
    from ci_toolkit.proc import Console
    from ci_toolkit.resources import shipped_path

    actions = ActionsRuntime()
    console = Console()
    credentials = _read_credentials(os.environ, actions) if push else None
    shipped = shipped_path("docker")
    context, dockerfile_path, actions_dir, requirements = resolve_inputs(
        context=context, dockerfile=dockerfile or shipped / "Dockerfile",
        actions_directory=actions_directory, requirements_file=requirements_file,
    )
    names = _names(context, registry, image_name, tag, short_sha, extra_tags)
    expected: tuple[str, ...] = ()
    if smoke_test:
        expected = split_list(expect_actions) or custom_actions_in_domain(
            domain if domain.is_absolute() else context / domain)
    _check_sdk_version(context, rasa_sdk_version, bool(base_image or dockerfile), console,
                       actions)
    environ = os.environ
    standard = standard_build_args(
        inputs_actions=actions_dir.relative_to(context).as_posix(),
        rasa_sdk_version=rasa_sdk_version, base_image=base_image,
        revision=_revision(context, environ), source=source_url(context, environ),
        created=created_timestamp(environ), github_ref=environ.get("GITHUB_REF", ""),
        image_name=names.repository, image_tag=names.tag,
    )
    inputs = BuildInputs(
        context=context, dockerfile=dockerfile_path, actions_directory=actions_dir,
        requirements_file=requirements,
        build_args=merge_build_args(standard, parse_build_args(build_args)),
        platform=platform or None,
    )
    console.line(f"[image] building {names.full_name} from {context} "
                 f"(requirements: {requirements or 'none'})")
    client = _docker_client()
    with closing(client), requests.Session() as session:
        if credentials:
            login(client, names.registry, credentials)  # before the build: fail fast
        archive = context_archive(inputs, context_patterns(context, shipped / ".dockerignore"))
        with archive, actions.group(f"Build {names.full_name}"):
            result = build_image(client, inputs, archive, names, console=console,
                                 network_mode=build_network, no_cache=no_cache, pull=pull)
        console.line(f"[image] built {result.image_id} ({result.cached_steps}/"
                     f"{len(result.steps)} steps from cache)")
        smoke = "skipped"
        if smoke_test:
            with actions.group(f"Smoke-test {names.full_name}"):
                run_smoke_test(client, result.image_id, session=session,
                               expected_actions=expected, console=console,
                               timeout_s=smoke_timeout, network_mode=smoke_network)
            smoke = "passed"
        digest = None
        if push:
            with actions.group(f"Push {names.full_name}"):
                digest = _push(client, names, credentials, push_attempts, console)
    _publish(_outputs(names, result.image_id, digest, smoke), actions)


def _revision(context: Path, environ: Mapping[str, str]) -> str:
    from ci_toolkit.image.names import commit_sha

    try:
        return commit_sha(context, environ)
    except UsageError:
        return ""  # an explicit --tag outside git: build without a revision label value


@image.command(name="push")
@naming_options
def push_command(context: Path, registry: str, image_name: str, tag: str | None,
                 short_sha: bool, extra_tags: tuple[str, ...], push_attempts: int) -> None:
    """Push an image built earlier by `image build` (same naming options) to the registry."""
    from ci_toolkit.gha import ActionsRuntime
    from ci_toolkit.image.build import local_image_id, tag_image
    from ci_toolkit.image.push import login
    from ci_toolkit.proc import Console

    actions = ActionsRuntime()
    console = Console()
    credentials = _read_credentials(os.environ, actions)
    names = _names(context.resolve(), registry, image_name, tag, short_sha, extra_tags)
    client = _docker_client()
    with closing(client):
        image_id = local_image_id(client, names.full_name)
        if image_id is None:
            raise ToolkitError(
                f"There is no local image {names.full_name}. Build it first with "
                "`ci-toolkit image build` using the same --registry, --image-name and --tag."
            )
        tag_image(client, image_id, names)  # extra tags given only now
        if credentials:
            login(client, names.registry, credentials)
        with actions.group(f"Push {names.full_name}"):
            digest = _push(client, names, credentials, push_attempts, console)
    _publish(_outputs(names, image_id, digest, "skipped"), actions)
