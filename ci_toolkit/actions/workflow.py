"""`ci-toolkit actions test`: read the domain and the cases (bad input fails before anything
starts), start the action server or reach the given one, run the checks, stop the server,
run the team's unit tests."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ci_toolkit.actions.case_files import Case
from ci_toolkit.actions.cases import load_checked_cases
from ci_toolkit.actions.domain import ActionDomain, load_domain
from ci_toolkit.actions.features import require_grpc
from ci_toolkit.actions.request import ActionsRequest
from ci_toolkit.actions.results import ActionsResult, CheckResult, ServerInfo
from ci_toolkit.actions.run import Target, run_checks
from ci_toolkit.actions.server import (
    ActionClient,
    LocalActionServer,
    SdkEnvironment,
    probe_environment,
)
from ci_toolkit.actions.tls import self_signed
from ci_toolkit.actions.unit_tests import run_unit_tests
from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.proc import Console

if TYPE_CHECKING:
    import requests

SERVER_LOG = "action-server.log"
UNIT_TESTS_LOG = "unit-tests.log"
# What serving the checks gives: the server, the checks run on it, its environment.
_Served = tuple[ServerInfo, list[CheckResult], SdkEnvironment | None]


def default_python(configured_rasa: str | None) -> str:
    """The interpreter of the environment that has the rasa the pipeline runs (rasa-sdk is
    one of rasa's dependencies)."""
    from ci_toolkit.rasa.runner import find_rasa

    rasa = Path(find_rasa(configured_rasa))
    for candidate in (rasa.parent / "python", rasa.resolve().parent / "python"):
        if candidate.exists():
            return str(candidate)
    raise UsageError(f"No python next to the rasa executable {rasa}, so ci-toolkit cannot tell "
                     "which interpreter has rasa-sdk. Point --python (CI_TOOLKIT_ACTIONS_PYTHON) "
                     "at it.")


def _given_server(request: ActionsRequest, session: requests.Session, domain: ActionDomain,
                  cases: list[Case]) -> _Served:
    url = str(request.url).rstrip("/")
    # Only an interpreter named explicitly describes that server's environment.
    sdk = probe_environment(request.python) if request.python else None
    client = ActionClient(session, url)
    if not client.healthy():
        raise ToolkitError(f"The action server at {url} does not answer GET /health with "
                           "{\"status\": \"ok\"}. Start it first, or leave out --url to have "
                           "ci-toolkit start one from actions/.")
    checks = run_checks(Target(client, domain, sdk, "the action server's log"), cases)
    return ServerInfo(url, sdk.sdk_version if sdk else None, False), checks, sdk


def _local_server(request: ActionsRequest, session: requests.Session, domain: ActionDomain,
                  cases: list[Case]) -> _Served:
    python = request.python or default_python(os.environ.get("CI_TOOLKIT_RASA"))
    sdk = probe_environment(python)
    if request.grpc:
        require_grpc(sdk.sdk_version, python)
    log = request.results_root / SERVER_LOG
    # The run's self-signed certificate and key (--grpc-tls) live only as long as the run,
    # outside the results directory, which CI uploads.
    with tempfile.TemporaryDirectory(prefix="ci-toolkit-tls-") as tls_dir, LocalActionServer(
            request.project_dir, python, log, session=session,
            timeout_s=request.startup_timeout, grpc=request.grpc,
            tls=self_signed(Path(tls_dir)) if request.grpc_tls else None) as server:
        client = server.grpc_client or ActionClient(session, server.url)
        checks = run_checks(Target(client, domain, sdk, str(log),
                                   "grpc" if request.grpc else "http"), cases)
    info = ServerInfo(server.url, sdk.sdk_version, True, server.startup_s, str(log))
    return info, checks, sdk


def _check_transport(request: ActionsRequest) -> None:
    if request.grpc and request.url:
        raise UsageError("--grpc starts the action server itself (`python -m rasa_sdk "
                         "--grpc`), and --url tests a running HTTP server: leave out one of "
                         "them.")
    if request.grpc_tls and not request.grpc:
        raise UsageError("--grpc-tls serves gRPC over TLS: add --grpc, or leave it out.")


def run_contract_tests(request: ActionsRequest, *, session: requests.Session,
                       console: Console) -> ActionsResult:
    started = time.monotonic()
    project = request.project_dir
    if not project.is_dir():
        raise UsageError(f"The project {project} is not a directory. Pass the Rasa project "
                         "as the argument (default: the current directory).")
    _check_transport(request)
    domain = load_domain(request.domain_path())
    cases = load_checked_cases(project, domain)
    request.results_root.mkdir(parents=True, exist_ok=True)
    serve = _given_server if request.url else _local_server
    info, checks, sdk = serve(request, session, domain, cases)
    checks.append(run_unit_tests(project, sdk, console=console,
                                 log_file=request.results_root / UNIT_TESTS_LOG))
    return ActionsResult(info, tuple(checks), time.monotonic() - started)
