"""`image build` and `image push` from request to outputs: the one place that makes the docker
client and the HTTP session, and that publishes the outputs the action-server action reads.

The outputs follow RasaHQ/action-server-gha's names where they mean the same thing.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.escape import code
from ci_toolkit.gha import ActionsRuntime
from ci_toolkit.github_context import GitHubContext
from ci_toolkit.image.request import DEFAULT_RASA_SDK_VERSION, BuildRequest, PushRequest
from ci_toolkit.proc import Console

if TYPE_CHECKING:
    import requests
    from docker.client import DockerClient

    from ci_toolkit.actions.container import ContainerResults
    from ci_toolkit.actions.request import ContainerContractTests
    from ci_toolkit.image.build import BuildResult
    from ci_toolkit.image.context import BuildInputs
    from ci_toolkit.image.names import ImageNames
    from ci_toolkit.image.push import RegistryCredentials

ENGINE_TIMEOUT_S = 900  # a silent `pip install` of a big package can take minutes
DEFAULT_ENGINE = "unix:///var/run/docker.sock"


@dataclass(frozen=True)
class Runtime:
    """What a run talks to besides the engine: env, workflow commands, the terminal."""

    environ: Mapping[str, str]
    actions: ActionsRuntime
    console: Console

    @classmethod
    def default(cls) -> Runtime:
        return cls(os.environ, ActionsRuntime(), Console())


def _engine_unreachable(where: str, reason: str) -> ToolkitError:
    return ToolkitError(
        f"Cannot reach the Docker engine at {where}: {reason}. Start Docker, or set "
        "DOCKER_HOST to a running engine's socket."
    )


def docker_client(environ: Mapping[str, str]) -> DockerClient:
    """The one docker client of a command: DOCKER_HOST etc. as the docker CLI reads them."""
    from docker.client import DockerClient
    from docker.errors import DockerException

    host = environ.get("DOCKER_HOST") or DEFAULT_ENGINE
    if host.startswith("unix://"):
        # Knock first: the SDK leaves a socket open when its first connection fails.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(10)
            try:
                probe.connect(host.removeprefix("unix://"))
            except OSError as error:
                raise _engine_unreachable(host, error.strerror or str(error)) from error
    try:
        return DockerClient.from_env(timeout=ENGINE_TIMEOUT_S, environment=dict(environ))
    except DockerException as error:
        reason = re.sub(r"^Error while fetching server API version: ", "", str(error))
        raise _engine_unreachable(host, reason) from error


def image_names(request: PushRequest, context: Path, environ: Mapping[str, str]) -> ImageNames:
    from ci_toolkit.image.names import resolve_names, split_list

    return resolve_names(registry=request.registry, image_name=request.image_name,
                         tag=request.tag, short_sha=request.short_sha,
                         extra_tags=split_list(request.extra_tags), context=context,
                         environ=environ)


def sdk_version_warning(context: Path, rasa_sdk_version: str | None,
                        custom_base: bool) -> str | None:
    """Why the rasa-sdk the image is built on may not fit the project's rasa, if it may not."""
    from ci_toolkit.pipeline.project import pinned_rasa_version

    version = rasa_sdk_version or DEFAULT_RASA_SDK_VERSION
    if version == "latest":
        return ("rasa-sdk 'latest' moves under you and has broken action servers before "
                "(RasaHQ/rasa-sdk#153). Pin a version with --rasa-sdk-version.")
    rasa = None if custom_base else pinned_rasa_version(context)
    if rasa and rasa.split(".")[:2] != version.split(".")[:2]:
        return (f"The project pins rasa {rasa} but the image is built on rasa-sdk "
                f"{version}. Use the rasa-sdk of the same minor version "
                "(--rasa-sdk-version / CI_TOOLKIT_RASA_SDK_VERSION).")
    return None


def image_outputs(names: ImageNames, image_id: str, digest: str | None,
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


def publish(outputs: Mapping[str, str], actions: ActionsRuntime) -> None:
    """The outputs as name=value lines on stdout, as step outputs and as a summary table."""
    for name, value in outputs.items():
        print(f"{name}={value.replace(chr(10), ' ')}", flush=True)
    actions.set_outputs(outputs)
    # Image names and tags come from the repository's settings: shown as inert code spans.
    rows = "\n".join(f"| {code(name)} | {code(value)} |"
                     for name, value in outputs.items() if value)
    actions.append_step_summary(f"### Action-server image\n\n| Output | Value |\n|---|---|\n{rows}")


def _push(client: DockerClient, names: ImageNames, credentials: RegistryCredentials | None,
          attempts: int, console: Console) -> str:
    from ci_toolkit.image.push import push_image

    digest = push_image(client, names, credentials=credentials, console=console,
                        attempts=attempts)
    console.line(f"[image] pushed {', '.join(names.references)} ({digest})")
    return digest


def _revision(context: Path, environ: Mapping[str, str]) -> str:
    from ci_toolkit.image.names import commit_sha

    try:
        return commit_sha(context, environ)
    except UsageError:
        return ""  # an explicit --tag outside git: build without a revision label value


@dataclass(frozen=True)
class BuildPlan:
    """A build request checked and resolved before the engine is asked anything."""

    request: BuildRequest
    inputs: BuildInputs
    names: ImageNames
    expected_actions: tuple[str, ...]
    shipped_docker: Path


def plan_build(request: BuildRequest, runtime: Runtime) -> BuildPlan:
    """Check the paths, names, domain and build arguments; warn about a mismatched rasa-sdk."""
    from ci_toolkit.image.container_check import custom_actions_in_domain
    from ci_toolkit.image.context import (
        BuildInputs,
        merge_build_args,
        parse_build_args,
        resolve_inputs,
        standard_build_args,
    )
    from ci_toolkit.image.names import created_timestamp, source_url, split_list
    from ci_toolkit.resources import shipped_path

    shipped = shipped_path("docker")
    context, dockerfile, actions_dir, requirements = resolve_inputs(
        context=request.context, dockerfile=request.dockerfile or shipped / "Dockerfile",
        actions_directory=request.actions_directory,
        requirements_file=request.requirements_file,
    )
    environ = runtime.environ
    names = image_names(request, context, environ)
    expected: tuple[str, ...] = ()
    if request.smoke_test:
        domain = request.domain
        expected = split_list(request.expect_actions) or custom_actions_in_domain(
            domain if domain.is_absolute() else context / domain)
    warning = sdk_version_warning(context, request.rasa_sdk_version,
                                  bool(request.base_image or request.dockerfile))
    if warning:
        runtime.console.line(f"warning: {warning}")
        runtime.actions.annotate("warning", warning, title="ci-toolkit image")
    standard = standard_build_args(
        inputs_actions=actions_dir.relative_to(context).as_posix(),
        rasa_sdk_version=request.rasa_sdk_version, base_image=request.base_image,
        revision=_revision(context, environ), source=source_url(context, environ),
        created=created_timestamp(environ), github_ref=GitHubContext.from_environ(environ).ref,
        image_name=names.repository, image_tag=names.tag,
    )
    inputs = BuildInputs(
        context=context, dockerfile=dockerfile, actions_directory=actions_dir,
        requirements_file=requirements,
        build_args=merge_build_args(standard, parse_build_args(request.build_args)),
        platform=request.platform or None,
    )
    return BuildPlan(request, inputs, names, expected, shipped)


def _build(client: DockerClient, plan: BuildPlan, runtime: Runtime) -> BuildResult:
    from ci_toolkit.image.build import build_image
    from ci_toolkit.image.context import context_archive, context_patterns

    inputs, names, request = plan.inputs, plan.names, plan.request
    archive = context_archive(inputs, context_patterns(inputs.context,
                                                       plan.shipped_docker / ".dockerignore"))
    with archive, runtime.actions.group(f"Build {names.full_name}"):
        result = build_image(client, inputs, archive, names, console=runtime.console,
                             network_mode=request.build_network, no_cache=request.no_cache,
                             pull=request.pull)
    runtime.console.line(f"[image] built {result.image_id} ({result.cached_steps}/"
                         f"{len(result.steps)} steps from cache)")
    return result


def _testing(contract: ContainerContractTests | None) -> bool:
    return contract is not None and contract.contract_tests


def _check_container(client: DockerClient, plan: BuildPlan, image_id: str,
                     session: requests.Session, runtime: Runtime,
                     contract: ContainerContractTests | None
                     ) -> tuple[str, ContainerResults | None]:
    """Smoke-test the container and, with --contract-tests, run the action contract tests
    against it while it runs: (smoke test status, contract-test results or None)."""
    from ci_toolkit.actions.container import test_container
    from ci_toolkit.image.container_check import smoke_test

    if not plan.request.smoke_test and not _testing(contract):
        return "skipped", None
    found: list[ContainerResults] = []

    def contract_tests(base_url: str, container_log: Callable[[], str]) -> None:
        found.append(test_container(
            plan.inputs.context, base_url, domain=plan.request.domain,
            results_dir=contract.results_dir if contract else None,
            session=session, console=runtime.console, container_log=container_log))

    with runtime.actions.group(f"Smoke-test {plan.names.full_name}"):
        smoke_test(client, image_id, session=session, expected_actions=plan.expected_actions,
                   console=runtime.console, timeout_s=plan.request.smoke_timeout,
                   network_mode=plan.request.smoke_network,
                   while_running=contract_tests if _testing(contract) else None)
    return ("passed" if plan.request.smoke_test else "skipped"), (found[0] if found else None)


def _contract_outputs(results: ContainerResults | None) -> dict[str, str]:
    return results.outputs if results else {"contract_tests": "skipped", "actions_results": ""}


def run_build(request: BuildRequest, runtime: Runtime | None = None, *,
              contract: ContainerContractTests | None = None) -> dict[str, str]:
    """Build the image; optionally check the container (smoke test, ``contract`` tests) and
    push. Returns the outputs; a failed contract check stops before the push, after the
    outputs are set."""
    import requests

    from ci_toolkit.actions.container import check_inputs
    from ci_toolkit.image.push import credentials_from_env, login

    runtime = runtime or Runtime.default()
    credentials = (credentials_from_env(runtime.environ, runtime.actions)
                   if request.push else None)
    plan = plan_build(request, runtime)
    names, inputs = plan.names, plan.inputs
    if _testing(contract):
        check_inputs(inputs.context, request.domain)
    runtime.console.line(f"[image] building {names.full_name} from {inputs.context} "
                         f"(requirements: {inputs.requirements_file or 'none'})")
    client = docker_client(runtime.environ)
    with closing(client), requests.Session() as session:
        if credentials:
            login(client, names.registry, credentials)  # before the build: fail fast
        result = _build(client, plan, runtime)
        smoke, tested = _check_container(client, plan, result.image_id, session, runtime,
                                         contract)
        if tested is not None and not tested.result.passed:
            publish({**image_outputs(names, result.image_id, None, smoke),
                     **_contract_outputs(tested)}, runtime.actions)
            raise ToolkitError(
                f"{tested.result.count('failed')} action contract check(s) of "
                f"{names.full_name} failed, so it was not pushed: see the findings above and "
                f"{tested.path}.")
        digest = None
        if request.push:
            with runtime.actions.group(f"Push {names.full_name}"):
                digest = _push(client, names, credentials, request.push_attempts,
                               runtime.console)
    outputs = {**image_outputs(names, result.image_id, digest, smoke),
               **_contract_outputs(tested)}
    publish(outputs, runtime.actions)
    return outputs


def run_push(request: PushRequest, runtime: Runtime | None = None) -> dict[str, str]:
    """Push an image built earlier with the same naming options. Returns the outputs."""
    from ci_toolkit.image.build import local_image_id, tag_image
    from ci_toolkit.image.push import credentials_from_env, login

    runtime = runtime or Runtime.default()
    credentials = credentials_from_env(runtime.environ, runtime.actions)
    names = image_names(request, request.context.resolve(), runtime.environ)
    client = docker_client(runtime.environ)
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
        with runtime.actions.group(f"Push {names.full_name}"):
            digest = _push(client, names, credentials, request.push_attempts, runtime.console)
    outputs = image_outputs(names, image_id, digest, "skipped")
    publish(outputs, runtime.actions)
    return outputs
