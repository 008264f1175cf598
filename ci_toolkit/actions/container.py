"""The contract tests against a running container of the built action-server image.

`ci-toolkit image build --contract-tests` starts the container for its smoke test
(ci_toolkit/image/container_check.py) and, while it still runs, calls ``test_container``:
the same checks as `ci-toolkit actions test --url`, with the container's log kept next to
actions.json (the traceback of an action that raised is there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ci_toolkit.actions.output import table, write_results
from ci_toolkit.actions.request import RESULTS_FILE, ActionsRequest
from ci_toolkit.actions.results import ActionsResult
from ci_toolkit.actions.workflow import SERVER_LOG, run_contract_tests
from ci_toolkit.proc import Console, environment_redactor

if TYPE_CHECKING:
    import requests


@dataclass(frozen=True)
class ContainerResults:
    result: ActionsResult
    path: Path  # actions.json

    @property
    def outputs(self) -> dict[str, str]:
        from ci_toolkit.actions.output import result_outputs

        return result_outputs(self.result, self.path)


def test_container(project: Path, base_url: str, *, domain: Path | None,
                   results_dir: Path | None, session: requests.Session, console: Console,
                   container_log: Callable[[], str]) -> ContainerResults:
    """Run the contract tests against ``base_url``; write actions.json and the log.
    ``domain``: the image build's --domain, relative to ``project`` (None: find it)."""
    request = ActionsRequest(project_dir=project, domain=domain, results_dir=results_dir,
                             url=base_url)
    result = run_contract_tests(request, session=session, console=console)
    log = request.results_root / SERVER_LOG
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(environment_redactor()(container_log()), encoding="utf-8")
    result = replace(result, server=replace(result.server, log_file=str(log)))
    path = write_results(result, request.results_root / RESULTS_FILE)
    for line in table(result):
        console.line(f"[contract] {line}")
    return ContainerResults(result, path)


def check_inputs(project: Path, domain: Path | None) -> None:
    """Read the domain and the cases before the image is built: a mistake in them is a
    UsageError now, not after a long build."""
    from ci_toolkit.actions.cases import load_checked_cases
    from ci_toolkit.actions.domain import load_domain

    request = ActionsRequest(project_dir=project, domain=domain)
    load_checked_cases(project, load_domain(request.domain_path()))
