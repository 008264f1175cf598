"""What `ci-toolkit deploy` and `ci-toolkit smoke-test` are asked to do: one frozen request each.

Every field is declared once with its default, env var and help (``ci_toolkit.options``); the
click options are made from these fields. Secrets are not fields: they come from the
environment only (options end up in argv), see ``DeploySecrets``.

Each request's ``check()`` refuses a value that could only fail later (a URL that cannot be
called, a timeout that is not a number of seconds) with a UsageError naming the option and
its environment variable. The commands call it first, before anything is uploaded or
upgraded: a mistyped --smoke-url must not roll back a good release after the upgrade.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ci_toolkit.deploy.helm import IMAGE_KEY_PRESETS
from ci_toolkit.deploy.http import without_query
from ci_toolkit.errors import UsageError
from ci_toolkit.options import check_seconds, declared_field, env, setting

MODEL_TARGETS = ("rasa-x", "rasa-server", "none")
DEFAULT_IMAGE_KEYS = "assistant-ci"
# The default first, as --help lists them.
IMAGE_KEY_PRESET_NAMES = (DEFAULT_IMAGE_KEYS,
                          *(name for name in IMAGE_KEY_PRESETS if name != DEFAULT_IMAGE_KEYS))


@dataclass(frozen=True, repr=False)
class DeploySecrets:
    """Tokens and passwords, read from the environment only and masked before anything runs.
    Its repr names which are set, never a value (a traceback may print it)."""

    rasax_token: str | None = None       # Rasa X API token (sent as ?api_token=)
    rasax_password: str | None = None    # Rasa X password, with --rasax-username
    rasa_token: str | None = None        # the Rasa server's --auth-token
    model_server_token: str | None = None  # token the Rasa server sends to --model-server-url

    @classmethod
    def env_var(cls, name: str) -> str:
        return env(name.upper())

    @classmethod
    def from_environ(cls, environ: Mapping[str, str],
                     mask: Callable[[str | None], None]) -> DeploySecrets:
        values = {}
        for secret in fields(cls):
            value = environ.get(cls.env_var(secret.name)) or None
            mask(value)  # mask first, before anything could print it
            values[secret.name] = value
        return cls(**values)

    def __repr__(self) -> str:
        given = [secret.name for secret in fields(self) if getattr(self, secret.name)]
        return f"DeploySecrets(set: {', '.join(given) or 'none'})"


SECRET_ENV_VARS: tuple[str, ...] = tuple(
    DeploySecrets.env_var(secret.name) for secret in fields(DeploySecrets))


def option_name(settings: type, name: str) -> str:
    """How a message names an option: its flag and the env var the action input sets."""
    envvar = declared_field(settings, name).metadata.get("envvar")
    flag = "--" + name.replace("_", "-")
    return f"{flag} ({env(envvar)})" if envvar else flag


def url_problem(value: str) -> str | None:
    """Why ``value`` cannot be a service's base URL, or None when it can."""
    if any(char.isspace() or not char.isprintable() for char in value):
        return "it contains a space, a line break or a control character"
    if "://" not in value:
        return "it has no scheme: start it with https:// or http://"
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError for a port that is not a number 0-65535
    except ValueError as error:
        return f"it cannot be parsed ({error})"
    if parts.scheme.lower() not in ("http", "https"):
        return f"the scheme '{parts.scheme}' is not http or https"
    if not parts.hostname:
        return "it has no host name"
    if parts.username is not None or parts.password is not None:
        return ("it carries a user name or password: options show up in logs, so credentials "
                "go in the secret environment variables")
    if parts.query or parts.fragment:
        return "a base URL has no ?query or #fragment (tokens go in the secrets)"
    return None


def check_url(settings: type, name: str, value: str | None, example: str) -> None:
    """A UsageError naming the option when ``value`` is set and cannot be called."""
    if value is None or value == "":
        return
    problem = url_problem(value)
    if problem is not None:
        raise UsageError(f"{option_name(settings, name)} {without_query(value)!r} is not a URL "
                         f"ci-toolkit can call: {problem}. Give the base URL, e.g. {example}.")


@dataclass(frozen=True)
class SmokeRequest:
    """The smoke test: shared by `smoke-test` and `deploy`."""

    smoke_tests: Path | None = setting(
        None, envvar="SMOKE_TESTS", metavar="FILE",
        help="YAML file of conversations: user messages with the expected bot text "
             "(bot: substring, bot_regex: regular expression) and/or intent. "
             "Example: examples/coffeebot/tests/smoke.yml. Intent checks call "
             "/model/parse and need CI_TOOLKIT_RASA_TOKEN when the server has a token.")
    smoke_url: str | None = setting(
        None, envvar="SMOKE_URL", metavar="URL",
        help="Base URL of the Rasa server whose REST channel (/webhooks/rest/webhook) "
             "is tested, e.g. https://bot.example.com. deploy defaults to --rasa-url "
             "or --rasax-url.")
    smoke_timeout: float = setting(
        180.0, envvar="SMOKE_TIMEOUT", metavar="SECONDS",
        help="Time for the whole smoke test: failed rounds are repeated while the rollout "
             "settles (pods restart, Rasa pulls the new model), and no round or request "
             "goes past it.")

    def check(self) -> None:
        check_url(SmokeRequest, "smoke_url", self.smoke_url, "https://bot.example.com")
        check_seconds(self.smoke_timeout, option=option_name(SmokeRequest, "smoke_timeout"))


@dataclass(frozen=True)
class ModelRequest:
    """Where the model goes: Rasa X (upload and tag) or a Rasa server (PUT /model)."""

    model: Path | None = setting(
        None, envvar="MODEL", metavar="FILE",
        help="The model archive to deploy (the `model_path` output of the pipeline). Rasa X "
             "names the model after the file.")
    model_target: str = setting(
        "none", envvar="MODEL_TARGET", choices=MODEL_TARGETS,
        help="Where the model goes: rasa-x uploads it and tags it (Rasa pulls the tagged "
             "model); rasa-server replaces the model of a running `rasa run --enable-api` "
             "with PUT /model; none deploys no model (helm only).")
    rasax_url: str | None = setting(
        None, envvar="RASAX_URL", metavar="URL",
        help="Base URL of Rasa X / Enterprise, e.g. https://rasax.example.com (no /api). "
             "Authenticate with the secret CI_TOOLKIT_RASAX_TOKEN (API token), or "
             "--rasax-username and the secret CI_TOOLKIT_RASAX_PASSWORD.")
    rasax_project: str = setting(
        "default", envvar="RASAX_PROJECT", help="Rasa X project (Rasa X has only 'default').")
    rasax_username: str | None = setting(
        None, envvar="RASAX_USERNAME", metavar="USER",
        help="Rasa X user for POST /api/auth; the password comes from the secret "
             "CI_TOOLKIT_RASAX_PASSWORD. Not needed with an API token.")
    rasax_tag: str = setting(
        "production", envvar="RASAX_TAG",
        help="Tag to put on the uploaded model. Rasa deployments pull the model tagged "
             "'production'; a smoke-test failure puts the tag back on the previous model.")
    replace_model: bool = setting(
        False, envvar="REPLACE_MODEL", is_flag=True,
        help="If Rasa X has a different model with the same name, delete it and upload "
             "this one. Without it, that is an error (an identical file is always fine).")
    rasa_url: str | None = setting(
        None, envvar="RASA_URL", metavar="URL",
        help="Base URL of the Rasa server for --model-target rasa-server, e.g. "
             "http://rasa:5005. Its --auth-token comes from the secret "
             "CI_TOOLKIT_RASA_TOKEN.")
    server_model_file: str | None = setting(
        None, envvar="SERVER_MODEL_FILE", metavar="PATH",
        help="The model's path as the Rasa server sees it (PUT /model reads it from the "
             "server's filesystem). Defaults to --model, right when the server runs on "
             "this machine or shares the volume.")
    model_server_url: str | None = setting(
        None, envvar="MODEL_SERVER_URL", metavar="URL",
        help="Instead of a file: a model server URL the Rasa server pulls the model from "
             "(PUT /model with model_server). Its token comes from the secret "
             "CI_TOOLKIT_MODEL_SERVER_TOKEN.")
    http_timeout: float = setting(
        300.0, envvar="HTTP_TIMEOUT", metavar="SECONDS",
        help="Time budget of one Rasa X / Rasa server call, retries included (connection "
             "errors, timeouts and 5xx answers are retried with backoff). PUT /model "
             "answers only once the model is loaded, so allow for that.")

    def check(self) -> None:
        check_url(ModelRequest, "rasax_url", self.rasax_url, "https://rasax.example.com")
        check_url(ModelRequest, "rasa_url", self.rasa_url, "http://rasa:5005")
        check_url(ModelRequest, "model_server_url", self.model_server_url,
                  "https://models.example.com/models/latest.tar.gz")
        check_seconds(self.http_timeout, option=option_name(ModelRequest, "http_timeout"))
        if self.model_target == "none" and self.model is not None:
            raise UsageError(f"{option_name(ModelRequest, 'model')} is given, but "
                             f"{option_name(ModelRequest, 'model_target')} is none, so the "
                             "model would not be deployed. Set it to rasa-x or rasa-server, "
                             "or leave the model out.")
        if self.model_target == "rasa-x":
            for name in ("rasax_project", "rasax_tag"):
                value = getattr(self, name)
                if not value or not value.strip() or "/" in value:
                    raise UsageError(f"{option_name(ModelRequest, name)} {value!r} is not a "
                                     "Rasa X name: give a non-empty name without '/'.")


# Helm's own rules for a release name (a DNS-1123 subdomain of at most 53 characters) and
# Kubernetes' for a namespace (a DNS-1123 label). Checked here, because a value that starts
# with "-" would reach helm as a flag (--helm-release=--post-renderer=/bin/sh).
_DNS_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
_HELM_NAMES: dict[str, tuple[re.Pattern[str], int, str]] = {
    "helm_release": (re.compile(rf"{_DNS_LABEL}(?:\.{_DNS_LABEL})*"), 53,
                     "lowercase letters, digits, '-' and '.', starting and ending with a "
                     "letter or digit, at most 53 characters, e.g. coffeebot-actions"),
    "helm_namespace": (re.compile(_DNS_LABEL), 63,
                       "lowercase letters, digits and '-', starting and ending with a letter "
                       "or digit, at most 63 characters, e.g. bots"),
}
# Free-form values (a chart path or oci:// reference, a version, a kube context) only must
# not look like a flag nor carry whitespace or control characters.
_NOT_A_FLAG = re.compile(r"[^-\s\x00-\x1f\x7f][^\s\x00-\x1f\x7f]*")


def check_helm_values(request: HelmRequest) -> None:
    """A UsageError naming the option for a value helm could take as a flag, or refuse."""
    for name, (pattern, longest, rule) in _HELM_NAMES.items():
        value = getattr(request, name)
        if value and (len(value) > longest or not pattern.fullmatch(value)):
            raise UsageError(f"{option_name(HelmRequest, name)} {value!r} is not a valid name: "
                             f"use {rule}.")
    for name in ("helm_chart", "helm_chart_version", "helm_kube_context"):
        value = getattr(request, name)
        if value and not _NOT_A_FLAG.fullmatch(value):
            raise UsageError(f"{option_name(HelmRequest, name)} {value!r} must not start with "
                             "'-' nor contain spaces or control characters. Give the value "
                             "itself, e.g. --helm-chart rasa-x/rasa-x --helm-chart-version "
                             "4.5.0.")


@dataclass(frozen=True)
class HelmRequest:
    """``helm upgrade --install`` of the action server with the image step's outputs."""

    helm_release: str | None = setting(
        None, envvar="HELM_RELEASE", metavar="NAME",
        help="Run `helm upgrade --install NAME` (after the model upload, before the model "
             "is activated). Without it there is no helm step.")
    helm_chart: str | None = setting(
        None, envvar="HELM_CHART", metavar="CHART",
        help="Chart reference (rasa-x/rasa-x, a path, oci://...). Defaults to this "
             "project's chart (charts/assistant) with --helm-image-keys assistant-ci.")
    helm_chart_version: str | None = setting(
        None, envvar="HELM_CHART_VERSION", metavar="VERSION",
        help="Chart version (helm --version); pin it so chart upgrades are deliberate.")
    helm_namespace: str | None = setting(
        None, envvar="HELM_NAMESPACE", metavar="NS", help="Kubernetes namespace of the release.")
    helm_create_namespace: bool = setting(
        False, envvar="HELM_CREATE_NAMESPACE", is_flag=True,
        help="Create the namespace if it does not exist (helm --create-namespace).")
    helm_kube_context: str | None = setting(
        None, envvar="HELM_KUBE_CONTEXT", metavar="CONTEXT",
        help="kubeconfig context to use (helm --kube-context); default: the current one.")
    helm_values: tuple[Path, ...] = setting(
        (), envvar="HELM_VALUES", metavar="FILE", multiple=True,
        help="Extra values file(s), in order. Repeatable; in the environment separate "
             "several by spaces or newlines.")
    helm_set: tuple[str, ...] = setting(
        (), envvar="HELM_SET", metavar="KEY=VALUE", multiple=True,
        help="Extra --set pairs. Repeatable; in the environment separate by spaces or "
             "newlines. They appear in logs: put secrets in Kubernetes Secrets instead.")
    helm_image_keys: str = setting(
        DEFAULT_IMAGE_KEYS, envvar="HELM_IMAGE_KEYS", choices=IMAGE_KEY_PRESET_NAMES,
        help="Which values get --image-name/--image-tag: assistant-ci = "
             "actionServer.image.repository/tag (this project's chart); rasa-x = "
             "app.name/app.tag (the rasa-x chart); rasa = image.repository/image.tag "
             "(RasaHQ's rasa-action-server chart).")
    helm_image_name_key: str | None = setting(
        None, envvar="HELM_IMAGE_NAME_KEY", metavar="KEY",
        help="Override the image name key, e.g. rasa-action-server.image.repository.")
    helm_image_tag_key: str | None = setting(
        None, envvar="HELM_IMAGE_TAG_KEY", metavar="KEY",
        help="Override the image tag key, e.g. rasa-action-server.image.tag.")
    image_name: str | None = setting(
        None, envvar="DEPLOY_IMAGE_NAME", metavar="NAME",
        help="Action-server image name with registry (the image step's docker_image_name "
             "output).")
    image_tag: str | None = setting(
        None, envvar="DEPLOY_IMAGE_TAG", metavar="TAG",
        help="Action-server image tag (the image step's docker_image_tag output). A new tag "
             "per commit makes the pods roll; a reused tag does not.")
    helm_reuse_values: bool = setting(
        False, envvar="HELM_REUSE_VALUES", is_flag=True,
        help="Keep the values of the last release (passwords, ingress...) and change only "
             "what is given here. Note: new chart defaults are then ignored.")
    helm_wait: bool = setting(
        True, envvar="HELM_WAIT", help="Wait until the pods are ready (helm --wait).")
    helm_timeout: str = setting(
        "10m", envvar="HELM_TIMEOUT", metavar="DURATION",
        help="How long helm may wait (300s, 10m, 1m30s).")
    helm_atomic: bool = setting(
        True, envvar="HELM_ATOMIC",
        help="If the upgrade itself fails, let helm roll it back (helm --atomic).")
    helm_executable: str = setting(
        "helm", envvar="HELM", metavar="PATH", help="The helm executable.")


@dataclass(frozen=True)
class DeployRequest:
    """The whole deployment: model target, helm release, smoke test, rollback."""

    target: ModelRequest
    helm: HelmRequest
    smoke: SmokeRequest
    rollback: bool = setting(
        True, envvar="ROLLBACK",
        help="When the smoke test (or the model switch) fails, roll back: the previous "
             "model (Rasa X tag or Rasa server) and the previous helm revision.")

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> DeployRequest:
        """The request from the flat options of the command (one per field of the parts)."""
        def part(kind: type[Any]) -> Any:
            return kind(**{item.name: options[item.name] for item in fields(kind)})

        return cls(target=part(ModelRequest), helm=part(HelmRequest), smoke=part(SmokeRequest),
                   rollback=options["rollback"])

    def check(self) -> None:
        """Every option that can be checked here, before anything remote is tried."""
        self.target.check()
        check_helm_values(self.helm)
        self.smoke.check()

    def smoke_url(self) -> str | None:
        """--smoke-url, else the server the model went to."""
        return self.smoke_source()[0]

    def smoke_source(self) -> tuple[str | None, str]:
        """(the smoke test's URL, the option it comes from, for messages)."""
        if self.smoke.smoke_url:
            return self.smoke.smoke_url, "--smoke-url"
        if self.target.model_target == "rasa-server":
            return self.target.rasa_url, "--rasa-url"
        return self.target.rasax_url, "--rasax-url"
