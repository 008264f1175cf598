"""`ci-toolkit deploy` and `ci-toolkit smoke-test`: options -> one call into ci_toolkit.deploy.

Options come from the fields of ci_toolkit.deploy.request (default, env var and help declared
there once). Secrets are read from the environment only (never options: options end up in
argv):

  CI_TOOLKIT_RASAX_TOKEN        Rasa X API token (sent as ?api_token=)
  CI_TOOLKIT_RASAX_PASSWORD     Rasa X password, with --rasax-username (POST /api/auth)
  CI_TOOLKIT_RASA_TOKEN         the Rasa server's --auth-token (PUT /model, /status, /model/parse)
  CI_TOOLKIT_MODEL_SERVER_TOKEN token the Rasa server sends to --model-server-url
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ci_toolkit.commands import option_from, option_group
from ci_toolkit.deploy.request import (
    SECRET_ENV_VARS,
    DeployRequest,
    DeploySecrets,
    HelmRequest,
    ModelRequest,
    SmokeRequest,
)
from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.github_context import ENV_VARS as GITHUB_ENV_VARS

# Environment variables read besides the options' own (the action contract test checks
# deploy/action.yml against these and the options).
ENV_VARS_READ: tuple[str, ...] = (
    *SECRET_ENV_VARS,
    *(name for name in GITHUB_ENV_VARS
      if name in ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")),
)


def _log(line: str) -> None:
    click.echo(line, err=True)


def _file() -> click.Path:
    return click.Path(dir_okay=False, path_type=Path)


def _options(settings: type, *names: str, **overrides: dict[str, Any]
             ) -> Callable[[Any], Any]:
    """The options of ``names`` in that order. ``overrides`` adds, by name, what only the CLI
    needs: a click type, or other option names (``decls``)."""
    made = []
    for name in names:
        extra = dict(overrides.get(name, {}))
        decls = extra.pop("decls", ())
        made.append(option_from(settings, name, *decls, **extra))
    return option_group(*made)


def _seconds() -> click.FloatRange:
    return click.FloatRange(min=1)


smoke_options = _options(SmokeRequest, "smoke_tests", "smoke_url", "smoke_timeout",
                         smoke_tests={"type": _file()}, smoke_timeout={"type": _seconds()})

model_options = _options(
    ModelRequest, "model", "model_target", "rasax_url", "rasax_project", "rasax_username",
    "rasax_tag", "replace_model", "rasa_url", "server_model_file", "model_server_url",
    model={"type": _file()})

helm_options = _options(
    HelmRequest, "helm_release", "helm_chart", "helm_chart_version", "helm_namespace",
    "helm_create_namespace", "helm_kube_context", "helm_values", "helm_set", "helm_image_keys",
    "helm_image_name_key", "helm_image_tag_key", "image_name", "image_tag",
    "helm_reuse_values", "helm_wait", "helm_timeout", "helm_atomic", "helm_executable",
    helm_values={"type": _file()},
    helm_wait={"decls": ("--helm-wait/--no-helm-wait",)},
    helm_atomic={"decls": ("--helm-atomic/--no-helm-atomic",)},
    helm_executable={"decls": ("--helm",)})


@click.command("smoke-test")
@smoke_options
def smoke_test(**options: Any) -> None:
    """Talk to a deployed assistant and check its answers.

    Sends each conversation of --smoke-tests through the REST channel of --smoke-url (the
    server's credentials.yml needs `rest:`), compares the answers, repeats failed rounds until
    --smoke-timeout, and exits 1 with a report of what failed.
    """
    import requests

    from ci_toolkit.deploy.conversations import run_smoke_test
    from ci_toolkit.deploy.plan import smoke_plan
    from ci_toolkit.gha import ActionsRuntime

    request = SmokeRequest(**options)
    actions = ActionsRuntime()
    secrets = DeploySecrets.from_environ(os.environ, actions.add_mask)
    if request.smoke_tests is None:
        raise UsageError("Give the conversations to test with --smoke-tests FILE "
                         "(see examples/coffeebot/tests/smoke.yml).")
    request.check()
    with requests.Session() as session:
        plan = smoke_plan(session, request, request.smoke_url, secrets.rasa_token, _log)
        assert plan is not None, "smoke_tests is set"
        report = run_smoke_test(plan.tester, plan.conversations, source=plan.source,
                                timeout_s=plan.timeout_s, interval_s=plan.interval_s, log=_log)
    click.echo(report.format_text())
    actions.set_outputs({"smoke_test": "passed" if report.passed else "failed"})
    actions.append_step_summary(report.format_markdown())
    if not report.passed:
        raise ToolkitError(report.headline())


@click.command("deploy")
@model_options
@helm_options
@smoke_options
@option_from(DeployRequest, "rollback", "--rollback/--no-rollback")
@option_from(ModelRequest, "http_timeout", type=_seconds())
def deploy(**options: Any) -> None:
    """Upload the model, helm upgrade, smoke test, roll back on failure.

    \b
    Order: Rasa X upload -> helm upgrade (action server) -> tag / PUT /model -> smoke test.
    The action server goes first because the new model may call new actions. If the smoke
    test fails, the model and the helm release go back to what ran before, and the command
    exits 1 with the report. Outputs: model_name, model_upload, previous_model,
    helm_revision, helm_previous_revision, smoke_test, rolled_back.
    """
    import requests

    from ci_toolkit.deploy.flow import DeployOutcome, rollback_summary, run_deploy
    from ci_toolkit.deploy.plan import helm_step, model_target, smoke_plan
    from ci_toolkit.gha import ActionsRuntime

    request = DeployRequest.from_options(options)
    actions = ActionsRuntime()
    secrets = DeploySecrets.from_environ(os.environ, actions.add_mask)
    # Everything that can be checked here is, before anything is uploaded or upgraded.
    request.check()
    with requests.Session() as session:
        model = model_target(session, request.target, secrets, _log)
        helm = helm_step(request.helm)
        smoke_url, smoke_option = request.smoke_source()
        smoke = smoke_plan(session, request.smoke, smoke_url, secrets.rasa_token, _log,
                           url_option=smoke_option)
        if model is None and helm is None and smoke is None:
            raise UsageError("Nothing to deploy: set --model-target with --model, --helm-release, "
                             "or --smoke-tests.")
        outcome = DeployOutcome()
        try:
            run_deploy(model=model, helm=helm, smoke=smoke, rollback=request.rollback,
                       log=_log, outcome=outcome)
        finally:
            # Also after a failure: the next steps may need the revision or the model name.
            actions.set_outputs(outcome.outputs)
            for name, value in outcome.outputs.items():
                _log(f"{name}: {value}")
    if outcome.smoke is not None:
        click.echo(outcome.smoke.format_text())
        actions.append_step_summary(outcome.smoke.format_markdown())
        if not outcome.smoke.passed:
            undone = rollback_summary(outcome, enabled=request.rollback)
            raise ToolkitError(f"{outcome.smoke.headline()} {undone}",
                               file=str(request.smoke.smoke_tests))
