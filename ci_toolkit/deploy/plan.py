"""From a request to the steps of ``flow.run_deploy``: model target, helm step, smoke plan.

Each builder checks its part of the request first, so a wrong combination of options, a
model that is not a gzip tar archive or a conversations file that cannot be used is a
UsageError before anything remote is tried (the requests' own ``check()`` covers URLs and
timeouts). The HTTP session comes from the command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ci_toolkit.deploy.conversations import SmokeTester
from ci_toolkit.deploy.flow import HelmStep, ModelTarget, RasaServerTarget, RasaXTarget, SmokePlan
from ci_toolkit.deploy.helm import HelmCli, HelmTarget, ImageKeys, UpgradeSpec
from ci_toolkit.deploy.http import Log, RetryPolicy
from ci_toolkit.deploy.rasa_server import ModelSource, RasaServerClient
from ci_toolkit.deploy.rasax import RasaXClient, RasaXCredentials, model_name_for
from ci_toolkit.deploy.request import (
    DEFAULT_IMAGE_KEYS,
    DeploySecrets,
    HelmRequest,
    ModelRequest,
    SmokeRequest,
)
from ci_toolkit.deploy.smoke_file import load_conversations
from ci_toolkit.errors import UsageError
from ci_toolkit.proc import Console
from ci_toolkit.rasa.model_archive import check_model_archive
from ci_toolkit.resources import shipped_path

if TYPE_CHECKING:
    import requests




def smoke_plan(session: requests.Session, request: SmokeRequest, url: str | None,
               token: str | None, log: Log, *, url_option: str = "--smoke-url"
               ) -> SmokePlan | None:
    if request.smoke_tests is None:
        return None
    if not url:
        raise UsageError("--smoke-tests needs the assistant's URL: set --smoke-url (or --rasa-url "
                         "/ --rasax-url for deploy).")
    conversations = load_conversations(request.smoke_tests)
    # One request may take 30 s at most, and never past the end of --smoke-timeout.
    tester = SmokeTester(session, url, token=token, log=log, request_timeout_s=30.0,
                         url_option=url_option)
    return SmokePlan(tester, conversations, str(request.smoke_tests), request.smoke_timeout)


def model_target(session: requests.Session, request: ModelRequest, secrets: DeploySecrets,
                 log: Log) -> ModelTarget | None:
    if request.model_target == "none":
        return None
    retry = RetryPolicy(total_s=request.http_timeout)
    if request.model_target == "rasa-x":
        return _rasax_target(session, request, secrets, retry, log)
    if not request.rasa_url:
        raise UsageError("--model-target rasa-server needs --rasa-url (the Rasa server's base "
                         "URL).")
    model = request.model
    if model is not None:
        check_model_archive(model)
    server_file = request.server_model_file or (
        None if request.model_server_url else (str(model.resolve()) if model else None))
    source = ModelSource(model_file=server_file, model_server_url=request.model_server_url,
                         model_server_token=secrets.model_server_token)
    client = RasaServerClient(session, request.rasa_url, token=secrets.rasa_token, retry=retry,
                              log=log)
    return RasaServerTarget(client, source)


def _rasax_target(session: requests.Session, request: ModelRequest, secrets: DeploySecrets,
                  retry: RetryPolicy, log: Log) -> RasaXTarget:
    model = request.model
    if model is None or not request.rasax_url:
        raise UsageError("--model-target rasa-x needs --model (the model archive) and "
                         "--rasax-url.")
    check_model_archive(model)
    model_name_for(model)  # Rasa X names the model after the file: it must end in .tar.gz
    credentials = RasaXCredentials(api_token=secrets.rasax_token,
                                   username=request.rasax_username,
                                   password=secrets.rasax_password)
    client = RasaXClient(session, request.rasax_url, credentials,
                         project=request.rasax_project, retry=retry, log=log)
    return RasaXTarget(client, model, tag=request.rasax_tag, replace=request.replace_model)


def helm_step(request: HelmRequest) -> HelmStep | None:
    if not request.helm_release:
        return None
    chart = request.helm_chart
    if not chart:
        if request.helm_image_keys != DEFAULT_IMAGE_KEYS:
            raise UsageError(f"--helm-image-keys {request.helm_image_keys} is for another "
                             "project's chart: name it with --helm-chart (e.g. rasa-x/rasa-x).")
        chart = str(shipped_path("charts") / "assistant")
    spec = UpgradeSpec(
        target=HelmTarget(request.helm_release, request.helm_namespace,
                          request.helm_kube_context),
        chart=chart, chart_version=request.helm_chart_version,
        image_keys=ImageKeys.resolve(request.helm_image_keys, request.helm_image_name_key,
                                     request.helm_image_tag_key),
        image_name=request.image_name, image_tag=request.image_tag,
        values_files=tuple(request.helm_values), set_values=tuple(request.helm_set),
        reuse_values=request.helm_reuse_values, wait=request.helm_wait,
        timeout=request.helm_timeout, atomic=request.helm_atomic,
        create_namespace=request.helm_create_namespace,
    )
    spec.check()
    return HelmStep(HelmCli(request.helm_executable, Console()), spec)
