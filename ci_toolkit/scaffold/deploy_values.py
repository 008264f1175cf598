"""The deploy side of the main-branch workflow scaffold writes: the deploy action's
inputs, the secrets it needs, the chart values, and the workflow's own description."""

from __future__ import annotations

import json
import textwrap

from ci_toolkit.deploy.helm import IMAGE_KEY_PRESETS
from ci_toolkit.scaffold.options import ScaffoldOptions

HELM_VERSION = "v3.17.3"
# preset -> (chart, (helm repository name, URL) or None); assistant-ci is the chart that ships
# inside ci-toolkit, which `ci-toolkit deploy` finds by itself.
CHARTS: dict[str, tuple[str | None, tuple[str, str] | None]] = {
    "assistant-ci": (None, None),
    "rasa-x": ("rasa-x/rasa-x", ("rasa-x", "https://rasahq.github.io/rasa-x-helm")),
    "rasa": ("rasa/rasa-action-server", ("rasa", "https://helm.rasa.com")),
}


def yaml_scalar(value: object) -> str:
    # A JSON string is a valid double-quoted YAML scalar; numbers and booleans stay quoted
    # so YAML never turns "3.10" into 3.1.
    return json.dumps(value if isinstance(value, str) else str(value))


def _secret(name: str) -> str:
    return f"${{{{ secrets.{name} }}}}"


# (name, value) of the deploy action's inputs (`with:`; a name "# ..." is a comment), or of
# a setting (secret) the workflow needs.
Entries = list[tuple[str, str]]


def deploy_context(options: ScaffoldOptions) -> dict[str, object]:
    """The deploy job's environment and the settings (secrets, variables) it needs."""
    env, settings, repository = _deploy_entries(options)
    image_keys = IMAGE_KEY_PRESETS.get(options.chart, ("", ""))
    return {
        "image_keys": image_keys,
        "image_repository": _image_repository(options),
        "has_actions": options.has_actions,
        "image_keys_block": (_image_values(options, image_keys)
                             if options.chart != "none" else ""),
        "deploy_env": env,
        "deploy_settings": settings,
        "helm_version": HELM_VERSION,
        "helm_repository": repository,
        "cd_description": _cd_description(options),
    }


def deploy_settings(options: ScaffoldOptions) -> Entries:
    """The secrets the main-branch workflow needs, each with what it holds."""
    return _deploy_entries(options)[1]


def _deploy_entries(options: ScaffoldOptions) -> tuple[Entries, Entries, tuple[str, str] | None]:
    """The deploy step's env, the settings it needs and the helm repository to add."""
    env, settings = _model_env(options)
    repository = None
    if options.chart != "none":
        repository = _helm_repository(options)
        helm_env, helm_settings = _helm_env(options)
        env += helm_env
        settings += helm_settings
    if options.deploy_target != "none" or options.chart != "none":
        smoke_env, smoke_settings = _smoke_env(options)
        env += smoke_env
        settings += smoke_settings
    if options.registry != "ghcr.io" and options.has_actions:
        settings += [("REGISTRY_USERNAME", f"login for {options.registry}"),
                     ("REGISTRY_PASSWORD", f"password or token for {options.registry}")]
    return env, settings, repository


def _model_env(options: ScaffoldOptions) -> tuple[Entries, Entries]:
    target = options.deploy_target
    if target == "none":
        return [], []
    env = [("model_target", yaml_scalar(target)),
           ("model", "${{ runner.temp }}/model/${{ needs.model.outputs.model_name }}")]
    if target == "rasa-x":
        env += [("rasax_url", _secret("RASAX_URL")),
                ("rasax_token", _secret("RASAX_TOKEN"))]
        return env, [("RASAX_URL", "base URL of Rasa X, e.g. https://rasax.example.com"),
                     ("RASAX_TOKEN", "a Rasa X API token")]
    env += [("rasa_url", _secret("RASA_URL")),
            ("rasa_token", _secret("RASA_TOKEN")),
            ("# The server loads the model from its own disk or a model server:", ""),
            ("model_server_url", _secret("RASA_MODEL_SERVER_URL")),
            ("model_server_token", _secret("RASA_MODEL_SERVER_TOKEN"))]
    return env, [("RASA_URL", "base URL of the Rasa server (rasa run --enable-api)"),
                 ("RASA_TOKEN", "the server's --auth-token"),
                 ("RASA_MODEL_SERVER_URL (optional)", "where the server downloads the model from"),
                 ("RASA_MODEL_SERVER_TOKEN (optional)", "that model server's token")]


def _helm_repository(options: ScaffoldOptions) -> tuple[str, str] | None:
    """The helm repository to add for the chart; None for a chart of the user's own."""
    repository = CHARTS[options.chart][1]
    if options.chart_ref and repository and not options.chart_ref.startswith(
            repository[0] + "/"):
        return None
    return repository


def _helm_env(options: ScaffoldOptions) -> tuple[Entries, Entries]:
    chart_ref = options.chart_ref or CHARTS[options.chart][0]
    env = [("helm_release", yaml_scalar(options.release))]
    if chart_ref:
        env.append(("helm_chart", yaml_scalar(chart_ref)))
    env.append(("helm_image_keys", yaml_scalar(options.chart)))
    if options.namespace:
        env.append(("helm_namespace", yaml_scalar(options.namespace)))
    env.append(("helm_values", yaml_scalar(options.values_file)))
    if options.chart == "rasa-x":
        # The release keeps the passwords and tokens it was installed with.
        env.append(("helm_reuse_values", yaml_scalar("true")))
    if options.has_actions:
        env += [("docker_image_name",
                 "${{ needs.action-server.outputs.docker_image_name }}"),
                ("docker_image_tag",
                 "${{ needs.action-server.outputs.docker_image_tag }}")]
    return env, [("KUBE_CONFIG", "a kubeconfig for the cluster (or use your cloud's "
                  "login action)")]


def _smoke_env(options: ScaffoldOptions) -> tuple[Entries, Entries]:
    if options.smoke_tests:
        env = [("smoke_tests", yaml_scalar(options.smoke_tests))]
    else:
        env = [("# Conversations to check after the deploy (rolls back on failure):", ""),
               ("# smoke_tests", yaml_scalar("tests/smoke.yml"))]
    env.append(("smoke_url", _secret("ASSISTANT_URL")))
    return env, [("ASSISTANT_URL (optional)", "the URL the smoke test talks to; "
                  "default: the Rasa X / Rasa server URL")]


def _image_repository(options: ScaffoldOptions) -> str:
    return f"{options.registry}/{options.image_name or '<owner>/<repository>'}"


def _image_values(options: ScaffoldOptions, keys: tuple[str, str]) -> str:
    """The image keys of a chart preset as nested YAML, e.g. app: {name: ..., tag: ...}."""
    name = _image_repository(options)
    lines: list[str] = []
    written: list[str] = []
    for key, value, note in ((keys[0], name, "set by every deploy"),
                             (keys[1], "", "set by every deploy: the commit SHA")):
        parts = key.split(".")
        for depth, part in enumerate(parts[:-1]):
            if written[: depth + 1] != parts[: depth + 1]:
                lines.append("  " * depth + f"{part}:")
        written = parts[:-1]
        lines.append("  " * (len(parts) - 1) + f"{parts[-1]}: {yaml_scalar(value)}  # {note}")
    return "\n".join(lines)


def _cd_description(options: ScaffoldOptions) -> list[str]:
    steps = [f"On every push to {options.default_branch} that changes the assistant: train "
             "and test the model (its report is the baseline that pull requests compare with)"]
    if options.has_actions:
        steps.append("build the action-server image, smoke-test it and push it, tagged with "
                     "the commit SHA")
    if options.deploy_target == "rasa-x":
        steps.append("upload the model to Rasa X")
    if options.chart != "none":
        steps.append(f"`helm upgrade` the release with the new image ({options.chart} chart)")
    if options.deploy_target == "rasa-x":
        steps.append("tag the model `production` (Rasa pulls it)")
    elif options.deploy_target == "rasa-server":
        steps.append("load the model on the Rasa server")
    if options.deploy_target != "none" or options.chart != "none":
        steps.append("smoke-test the assistant, and roll everything back if that fails")
    text = "; then ".join(steps) + "."
    return textwrap.wrap(text, width=92)
