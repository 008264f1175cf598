"""`ci-toolkit actions test`: the action server's contract tests.

Options come from the fields of ci_toolkit.actions.request (default, env var and help
declared there once); the command builds the request, makes the HTTP session and makes one
call into ci_toolkit.actions.workflow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ci_toolkit.actions.output import result_outputs
from ci_toolkit.actions.request import RESULTS_FILE, ActionsRequest
from ci_toolkit.commands import argument_from, option_from

# Environment variables read besides the options' own: the rasa executable whose python is
# the default interpreter, and the runner's files for the step outputs.
ENV_VARS_READ: tuple[str, ...] = ("CI_TOOLKIT_RASA", "GITHUB_ACTIONS", "GITHUB_OUTPUT")


@click.group("actions")
def actions() -> None:
    """Test the project's custom actions against Rasa's action-server protocol."""


@actions.command("test")
@argument_from(ActionsRequest, "project_dir", metavar="[PROJECT]", default=".",
               type=click.Path(file_okay=False, path_type=Path))
@option_from(ActionsRequest, "domain", type=click.Path(path_type=Path))
@option_from(ActionsRequest, "results_dir",
             type=click.Path(file_okay=False, path_type=Path))
@option_from(ActionsRequest, "python")
@option_from(ActionsRequest, "url")
@option_from(ActionsRequest, "grpc", is_flag=True)
@option_from(ActionsRequest, "grpc_tls", is_flag=True)
@option_from(ActionsRequest, "startup_timeout", type=click.FloatRange(min=1))
def contract_test(**options: Any) -> None:
    """Run the contract tests of PROJECT's action server (default: the current directory).

    \b
    Starts `python -m rasa_sdk --actions actions` in PROJECT (or uses --url), then:
      - calls every custom action and validate_<form> of the domain with a minimal
        tracker and checks that Rasa would accept the answer;
      - checks the unknown-action answer (404), a compressed request body, and the
        domain_digest exchange (449, then cached) where rasa-sdk >= 3.9 runs;
      - runs the cases in PROJECT/tests/actions/*.yml (docs/action-tests.md);
      - runs pytest over actions/ with the server's interpreter, if it has pytest.
    With --grpc (rasa-sdk >= 3.9 with grpcio in --python's interpreter) the server is
    started with `--grpc` and the same checks and cases run over gRPC ("grpc: ..." names).
    Writes actions.json to --results-dir and exits 1 when a check fails. In GitHub
    Actions it sets the step outputs `contract_tests` (passed or failed) and
    `actions_results` (the path of actions.json, for `ci-toolkit run --actions-results`).
    """
    import requests

    from ci_toolkit.actions.output import table, write_results
    from ci_toolkit.actions.workflow import run_contract_tests
    from ci_toolkit.errors import ToolkitError
    from ci_toolkit.gha import ActionsRuntime
    from ci_toolkit.proc import Console

    request = ActionsRequest(**options)
    with requests.Session() as session:
        result = run_contract_tests(request, session=session, console=Console())
    path = write_results(result, request.results_root / RESULTS_FILE)
    click.echo("\n".join(table(result)))
    click.echo(f"Results: {path}")
    actions_runtime = ActionsRuntime()
    if actions_runtime.active:
        actions_runtime.set_outputs(result_outputs(result, path))
    if not result.passed:
        raise ToolkitError(f"{result.count('failed')} action contract check(s) failed; "
                           f"see the findings above and {path}.")
