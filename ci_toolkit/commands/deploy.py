"""`ci-toolkit deploy` and `ci-toolkit smoke-test`: options -> one call into ci_toolkit.deploy.

Secrets are read from the environment only (never options: options end up in argv):

  CI_TOOLKIT_RASAX_TOKEN        Rasa X API token (sent as ?api_token=)
  CI_TOOLKIT_RASAX_PASSWORD     Rasa X password, with --rasax-username (POST /api/auth)
  CI_TOOLKIT_RASA_TOKEN         the Rasa server's --auth-token (PUT /model, /status, /model/parse)
  CI_TOOLKIT_MODEL_SERVER_TOKEN token the Rasa server sends to --model-server-url
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from ci_toolkit.commands import option_group
from ci_toolkit.errors import ToolkitError, UsageError

SECRET_ENV_VARS: tuple[str, ...] = (
    "CI_TOOLKIT_RASAX_TOKEN", "CI_TOOLKIT_RASAX_PASSWORD", "CI_TOOLKIT_RASA_TOKEN",
    "CI_TOOLKIT_MODEL_SERVER_TOKEN",
)
ENV_VARS_READ: tuple[str, ...] = (
    *SECRET_ENV_VARS, "GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY",
)
MODEL_TARGETS = ("rasa-x", "rasa-server", "none")
IMAGE_KEY_PRESET_NAMES = ("assistant-ci", "rasa-x", "rasa")


def _secret(name: str, actions: Any) -> str | None:
    value = os.environ.get(name) or None
    actions.add_mask(value)  # mask first, before anything could print it
    return value


def _log(line: str) -> None:
    click.echo(line, err=True)


smoke_options = option_group(
    click.option("--smoke-tests", type=click.Path(dir_okay=False, path_type=Path),
                 envvar="CI_TOOLKIT_SMOKE_TESTS", metavar="FILE",
                 help="YAML file of conversations: user messages with the expected bot text "
                      "(bot: substring, bot_regex: regular expression) and/or intent. "
                      "Example: examples/coffeebot/tests/smoke.yml. Intent checks call "
                      "/model/parse and need CI_TOOLKIT_RASA_TOKEN when the server has a token."),
    click.option("--smoke-url", envvar="CI_TOOLKIT_SMOKE_URL", metavar="URL",
                 help="Base URL of the Rasa server whose REST channel (/webhooks/rest/webhook) "
                      "is tested, e.g. https://bot.example.com. deploy defaults to --rasa-url "
                      "or --rasax-url."),
    click.option("--smoke-timeout", type=click.FloatRange(min=1), default=180.0,
                 show_default=True, envvar="CI_TOOLKIT_SMOKE_TIMEOUT", metavar="SECONDS",
                 help="Keep repeating failed rounds for this long while the rollout settles "
                      "(pods restart, Rasa pulls the new model)."),
)


def _smoke_plan(session: Any, smoke_tests: Path | None, url: str | None, timeout_s: float,
                token: str | None) -> Any:
    from ci_toolkit.deploy.conversations import SmokeTester, load_conversations
    from ci_toolkit.deploy.flow import SmokePlan

    if smoke_tests is None:
        return None
    if not url:
        raise UsageError("--smoke-tests needs the assistant's URL: set --smoke-url (or --rasa-url "
                         "/ --rasax-url for deploy).")
    conversations = load_conversations(smoke_tests)
    # --smoke-timeout is the window for repeating rounds; one request may always take 30 s.
    tester = SmokeTester(session, url, token=token, log=_log, request_timeout_s=30.0)
    return SmokePlan(tester, conversations, str(smoke_tests), timeout_s)


@click.command("smoke-test")
@smoke_options
def smoke_test(smoke_tests: Path | None, smoke_url: str | None, smoke_timeout: float) -> None:
    """Talk to a deployed assistant and check its answers.

    Sends each conversation of --smoke-tests through the REST channel of --smoke-url (the
    server's credentials.yml needs `rest:`), compares the answers, repeats failed rounds until
    --smoke-timeout, and exits 1 with a report of what failed.
    """
    import requests

    from ci_toolkit.deploy.conversations import run_smoke_test
    from ci_toolkit.gha import ActionsRuntime

    actions = ActionsRuntime()
    token = _secret("CI_TOOLKIT_RASA_TOKEN", actions)
    if smoke_tests is None:
        raise UsageError("Give the conversations to test with --smoke-tests FILE "
                         "(see examples/coffeebot/tests/smoke.yml).")
    with requests.Session() as session:
        plan = _smoke_plan(session, smoke_tests, smoke_url, smoke_timeout, token)
        report = run_smoke_test(plan.tester, plan.conversations, source=plan.source,
                                timeout_s=plan.timeout_s, interval_s=plan.interval_s, log=_log)
    click.echo(report.format_text())
    actions.set_outputs({"smoke_test": "passed" if report.passed else "failed"})
    actions.append_step_summary(report.format_markdown())
    if not report.passed:
        raise ToolkitError(report.headline())


@click.command("deploy")
@click.option("--model", type=click.Path(dir_okay=False, path_type=Path), envvar="CI_TOOLKIT_MODEL",
              metavar="FILE", help="The model archive to deploy (the `model_path` output of the "
                                   "pipeline). Rasa X names the model after the file.")
@click.option("--model-target", type=click.Choice(MODEL_TARGETS), default="none", show_default=True,
              envvar="CI_TOOLKIT_MODEL_TARGET",
              help="Where the model goes: rasa-x uploads it and tags it (Rasa pulls the tagged "
                   "model); rasa-server replaces the model of a running `rasa run --enable-api` "
                   "with PUT /model; none deploys no model (helm only).")
@click.option("--rasax-url", envvar="CI_TOOLKIT_RASAX_URL", metavar="URL",
              help="Base URL of Rasa X / Enterprise, e.g. https://rasax.example.com (no /api). "
                   "Authenticate with the secret CI_TOOLKIT_RASAX_TOKEN (API token), or "
                   "--rasax-username and the secret CI_TOOLKIT_RASAX_PASSWORD.")
@click.option("--rasax-project", default="default", show_default=True,
              envvar="CI_TOOLKIT_RASAX_PROJECT", help="Rasa X project (Rasa X has only 'default').")
@click.option("--rasax-username", envvar="CI_TOOLKIT_RASAX_USERNAME", metavar="USER",
              help="Rasa X user for POST /api/auth; the password comes from the secret "
                   "CI_TOOLKIT_RASAX_PASSWORD. Not needed with an API token.")
@click.option("--rasax-tag", default="production", show_default=True,
              envvar="CI_TOOLKIT_RASAX_TAG",
              help="Tag to put on the uploaded model. Rasa deployments pull the model tagged "
                   "'production'; a smoke-test failure puts the tag back on the previous model.")
@click.option("--replace-model", is_flag=True, envvar="CI_TOOLKIT_REPLACE_MODEL",
              help="If Rasa X has a different model with the same name, delete it and upload "
                   "this one. Without it, that is an error (an identical file is always fine).")
@click.option("--rasa-url", envvar="CI_TOOLKIT_RASA_URL", metavar="URL",
              help="Base URL of the Rasa server for --model-target rasa-server, e.g. "
                   "http://rasa:5005. Its --auth-token comes from the secret "
                   "CI_TOOLKIT_RASA_TOKEN.")
@click.option("--server-model-file", envvar="CI_TOOLKIT_SERVER_MODEL_FILE", metavar="PATH",
              help="The model's path as the Rasa server sees it (PUT /model reads it from the "
                   "server's filesystem). Defaults to --model, right when the server runs on "
                   "this machine or shares the volume.")
@click.option("--model-server-url", envvar="CI_TOOLKIT_MODEL_SERVER_URL", metavar="URL",
              help="Instead of a file: a model server URL the Rasa server pulls the model from "
                   "(PUT /model with model_server). Its token comes from the secret "
                   "CI_TOOLKIT_MODEL_SERVER_TOKEN.")
@click.option("--helm-release", envvar="CI_TOOLKIT_HELM_RELEASE", metavar="NAME",
              help="Run `helm upgrade --install NAME` (after the model upload, before the model "
                   "is activated). Without it there is no helm step.")
@click.option("--helm-chart", envvar="CI_TOOLKIT_HELM_CHART", metavar="CHART",
              help="Chart reference (rasa-x/rasa-x, a path, oci://...). Defaults to this "
                   "project's chart (charts/assistant) with --helm-image-keys assistant-ci.")
@click.option("--helm-chart-version", envvar="CI_TOOLKIT_HELM_CHART_VERSION", metavar="VERSION",
              help="Chart version (helm --version); pin it so chart upgrades are deliberate.")
@click.option("--helm-namespace", envvar="CI_TOOLKIT_HELM_NAMESPACE", metavar="NS",
              help="Kubernetes namespace of the release.")
@click.option("--helm-create-namespace", is_flag=True, envvar="CI_TOOLKIT_HELM_CREATE_NAMESPACE",
              help="Create the namespace if it does not exist (helm --create-namespace).")
@click.option("--helm-kube-context", envvar="CI_TOOLKIT_HELM_KUBE_CONTEXT", metavar="CONTEXT",
              help="kubeconfig context to use (helm --kube-context); default: the current one.")
@click.option("--helm-values", type=click.Path(dir_okay=False, path_type=Path), multiple=True,
              envvar="CI_TOOLKIT_HELM_VALUES", metavar="FILE",
              help="Extra values file(s), in order. Repeatable; in the environment separate "
                   "several by spaces or newlines.")
@click.option("--helm-set", multiple=True, envvar="CI_TOOLKIT_HELM_SET", metavar="KEY=VALUE",
              help="Extra --set pairs. Repeatable; in the environment separate by spaces or "
                   "newlines. They appear in logs: put secrets in Kubernetes Secrets instead.")
@click.option("--helm-image-keys", type=click.Choice(IMAGE_KEY_PRESET_NAMES),
              default="assistant-ci",
              show_default=True, envvar="CI_TOOLKIT_HELM_IMAGE_KEYS",
              help="Which values get --image-name/--image-tag: assistant-ci = "
                   "actionServer.image.repository/tag (this project's chart); rasa-x = "
                   "app.name/app.tag (the rasa-x chart); rasa = image.repository/image.tag "
                   "(RasaHQ's rasa-action-server chart).")
@click.option("--helm-image-name-key", envvar="CI_TOOLKIT_HELM_IMAGE_NAME_KEY", metavar="KEY",
              help="Override the image name key, e.g. rasa-action-server.image.repository.")
@click.option("--helm-image-tag-key", envvar="CI_TOOLKIT_HELM_IMAGE_TAG_KEY", metavar="KEY",
              help="Override the image tag key, e.g. rasa-action-server.image.tag.")
@click.option("--image-name", envvar="CI_TOOLKIT_DEPLOY_IMAGE_NAME", metavar="NAME",
              help="Action-server image name with registry (the image step's docker_image_name "
                   "output).")
@click.option("--image-tag", envvar="CI_TOOLKIT_DEPLOY_IMAGE_TAG", metavar="TAG",
              help="Action-server image tag (the image step's docker_image_tag output). A new tag "
                   "per commit makes the pods roll; a reused tag does not.")
@click.option("--helm-reuse-values", is_flag=True, envvar="CI_TOOLKIT_HELM_REUSE_VALUES",
              help="Keep the values of the last release (passwords, ingress...) and change only "
                   "what is given here. Note: new chart defaults are then ignored.")
@click.option("--helm-wait/--no-helm-wait", default=True, show_default=True,
              envvar="CI_TOOLKIT_HELM_WAIT", help="Wait until the pods are ready (helm --wait).")
@click.option("--helm-timeout", default="10m", show_default=True, envvar="CI_TOOLKIT_HELM_TIMEOUT",
              metavar="DURATION", help="How long helm may wait (300s, 10m, 1m30s).")
@click.option("--helm-atomic/--no-helm-atomic", default=True, show_default=True,
              envvar="CI_TOOLKIT_HELM_ATOMIC",
              help="If the upgrade itself fails, let helm roll it back (helm --atomic).")
@click.option("--helm", "helm_executable", default="helm", show_default=True,
              envvar="CI_TOOLKIT_HELM", metavar="PATH", help="The helm executable.")
@smoke_options
@click.option("--rollback/--no-rollback", default=True, show_default=True,
              envvar="CI_TOOLKIT_ROLLBACK",
              help="When the smoke test (or the model switch) fails, roll back: the previous "
                   "model (Rasa X tag or Rasa server) and the previous helm revision.")
@click.option("--http-timeout", type=click.FloatRange(min=1), default=300.0, show_default=True,
              envvar="CI_TOOLKIT_HTTP_TIMEOUT", metavar="SECONDS",
              help="Time budget of one Rasa X / Rasa server call, retries included (connection "
                   "errors, timeouts and 5xx answers are retried with backoff). PUT /model "
                   "answers only once the model is loaded, so allow for that.")
def deploy(**params: Any) -> None:
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
    from ci_toolkit.gha import ActionsRuntime

    actions = ActionsRuntime()
    secrets = {name: _secret(name, actions) for name in SECRET_ENV_VARS}
    with requests.Session() as session:
        model = _model_target(session, params, secrets)
        helm = _helm_step(params)
        smoke_url = params["smoke_url"] or (
            params["rasa_url"] if params["model_target"] == "rasa-server" else params["rasax_url"])
        smoke = _smoke_plan(session, params["smoke_tests"], smoke_url, params["smoke_timeout"],
                            secrets["CI_TOOLKIT_RASA_TOKEN"])
        if model is None and helm is None and smoke is None:
            raise UsageError("Nothing to deploy: set --model-target with --model, --helm-release, "
                             "or --smoke-tests.")
        outcome = DeployOutcome()
        try:
            run_deploy(model=model, helm=helm, smoke=smoke, rollback=params["rollback"],
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
            undone = rollback_summary(outcome, enabled=params["rollback"])
            raise ToolkitError(f"{outcome.smoke.headline()} {undone}",
                               file=str(params["smoke_tests"]))


def _model_target(session: Any, params: dict[str, Any], secrets: dict[str, str | None]) -> Any:
    from ci_toolkit.deploy.flow import RasaServerTarget, RasaXTarget
    from ci_toolkit.deploy.http import RetryPolicy
    from ci_toolkit.deploy.rasa_server import ModelSource, RasaServerClient
    from ci_toolkit.deploy.rasax import RasaXClient, RasaXCredentials

    target = params["model_target"]
    if target == "none":
        return None
    retry = RetryPolicy(total_s=params["http_timeout"])
    model: Path | None = params["model"]
    if target == "rasa-x":
        if model is None or not params["rasax_url"]:
            raise UsageError("--model-target rasa-x needs --model (the model archive) and "
                             "--rasax-url.")
        if not model.is_file():
            raise UsageError(f"The model '{model}' does not exist. Pass the archive that "
                             "`rasa train` wrote (the pipeline's model_path output).")
        credentials = RasaXCredentials(api_token=secrets["CI_TOOLKIT_RASAX_TOKEN"],
                                       username=params["rasax_username"],
                                       password=secrets["CI_TOOLKIT_RASAX_PASSWORD"])
        client = RasaXClient(session, params["rasax_url"], credentials,
                             project=params["rasax_project"], retry=retry, log=_log)
        return RasaXTarget(client, model, tag=params["rasax_tag"], replace=params["replace_model"])
    if not params["rasa_url"]:
        raise UsageError("--model-target rasa-server needs --rasa-url (the Rasa server's base "
                         "URL).")
    server_file = params["server_model_file"] or (
        None if params["model_server_url"] else (str(model.resolve()) if model else None))
    source = ModelSource(model_file=server_file, model_server_url=params["model_server_url"],
                         model_server_token=secrets["CI_TOOLKIT_MODEL_SERVER_TOKEN"])
    client = RasaServerClient(session, params["rasa_url"], token=secrets["CI_TOOLKIT_RASA_TOKEN"],
                              retry=retry, log=_log)
    return RasaServerTarget(client, source)


def _helm_step(params: dict[str, Any]) -> Any:
    from ci_toolkit.deploy.flow import HelmStep
    from ci_toolkit.deploy.helm import HelmCli, HelmTarget, ImageKeys, UpgradeSpec
    from ci_toolkit.proc import Console

    if not params["helm_release"]:
        return None
    chart = params["helm_chart"]
    if not chart:
        if params["helm_image_keys"] != "assistant-ci":
            raise UsageError(f"--helm-image-keys {params['helm_image_keys']} is for another "
                             "project's chart: name it with --helm-chart (e.g. rasa-x/rasa-x).")
        from ci_toolkit.resources import shipped_path

        chart = str(shipped_path("charts") / "assistant")
    spec = UpgradeSpec(
        target=HelmTarget(params["helm_release"], params["helm_namespace"],
                          params["helm_kube_context"]),
        chart=chart, chart_version=params["helm_chart_version"],
        image_keys=ImageKeys.resolve(params["helm_image_keys"], params["helm_image_name_key"],
                                     params["helm_image_tag_key"]),
        image_name=params["image_name"], image_tag=params["image_tag"],
        values_files=tuple(params["helm_values"]), set_values=tuple(params["helm_set"]),
        reuse_values=params["helm_reuse_values"], wait=params["helm_wait"],
        timeout=params["helm_timeout"], atomic=params["helm_atomic"],
        create_namespace=params["helm_create_namespace"],
    )
    spec.check()
    return HelmStep(HelmCli(params["helm_executable"], Console()), spec)

