"""charts/assistant lints and renders with the real Helm engine (helm-python-sdk, test-time
only), and the rendered manifests carry the right image, wiring and probes."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from ci_toolkit.deploy.helm import HelmTarget, ImageKeys, UpgradeSpec, upgrade_args
from ci_toolkit.resources import shipped_path

helm = pytest.importorskip("helm_python")

CHART = shipped_path("charts") / "assistant"
IMAGE = "ghcr.io/acme/coffee-actions"
TAG = "3f2c1ab9"
RELEASE, NAMESPACE = "coffee", "bots"

# Values a user would give for each way of getting the model, and for the other switches.
SCENARIOS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "model-url": {"rasa": {"model": {"source": "url",
                                     "url": "https://models.example.com/coffee.tar.gz"}}},
    "model-server": {"rasa": {"model": {"source": "modelServer", "modelServer": {
        "url": "https://models.example.com/coffee", "token": {"existingSecret": "model-server"}}}}},
    "rasa-x": {"rasa": {"authToken": {"existingSecret": "rasa-token"},
                        "model": {"source": "rasaX", "rasaX": {
                            "url": "http://rasa-x-rasa-x.rasa.svc:5002/",
                            "token": {"existingSecret": "rasa-x",
                                      "existingSecretKey": "rasaxToken"}}}}},
    "ingress-and-tokens-from-values": {
        "rasa": {"authToken": {"value": "not-for-git"}},
        "ingress": {"enabled": True, "className": "nginx",
                    "tls": [{"hosts": ["bot.example.com"], "secretName": "bot-tls"}]}},
    "external-action-server": {"actionServer": {"enabled": False,
                                                "externalUrl": "http://actions.other:5055/webhook"}},
}


def deploy_values() -> dict[str, Any]:
    """The values `ci-toolkit deploy --helm-image-keys assistant-ci` sets from the image outputs."""
    args = upgrade_args(UpgradeSpec(target=HelmTarget(RELEASE), chart=str(CHART),
                                    image_keys=ImageKeys.resolve("assistant-ci"),
                                    image_name=IMAGE, image_tag=TAG))
    values: dict[str, Any] = {}
    for flag, pair in itertools.pairwise(args):
        if flag == "--set-string":
            _merge(values, helm.parse_set_string_values(pair))
    return values


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
    return into


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    with helm.Chart.load(CHART) as chart:
        rendered = chart.render(values, name=RELEASE, namespace=NAMESPACE)
    documents = []
    for path, text in rendered.items():
        if path.endswith(".yaml"):
            documents += [doc for doc in yaml.safe_load_all(text) if doc]
    return documents


def find(documents: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    names = [d["metadata"]["name"] for d in documents if d["kind"] == kind]
    assert len(matches) == 1, f"expected one {kind} {name}, got {names}"
    return matches[0]


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def endpoints(documents: list[dict[str, Any]]) -> dict[str, Any]:
    config = find(documents, "ConfigMap", f"{RELEASE}-assistant-rasa-endpoints")
    return dict(yaml.safe_load(config["data"]["endpoints.yml"]) or {})


@pytest.fixture(params=list(SCENARIOS))
def scenario(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, Any]]]:
    values = _merge(deploy_values(), SCENARIOS[request.param])
    yield request.param, values


def test_the_chart_lints_clean(scenario: tuple[str, dict[str, Any]]) -> None:
    report = helm.lint(CHART, scenario[1], strict=True)
    assert report["errors"] == [] and report["messages"] == [], report


def test_the_chart_lints_clean_with_its_defaults() -> None:
    report = helm.lint(CHART, strict=True)
    assert report["errors"] == [] and report["messages"] == [], report


def test_the_image_outputs_land_on_the_action_server(scenario: tuple[str, dict[str, Any]]) -> None:
    name, values = scenario
    documents = render(values)
    action_servers = [d for d in documents if d["kind"] == "Deployment"
                      and d["metadata"]["name"] == f"{RELEASE}-assistant-action-server"]
    if name == "external-action-server":
        assert action_servers == []
        return
    assert container(action_servers[0])["image"] == f"{IMAGE}:{TAG}"
    assert container(find(documents, "Deployment", f"{RELEASE}-assistant-rasa"))["image"] == \
        "rasa/rasa:3.6.21-full"


def test_the_action_endpoint_is_wired_to_the_action_server_service(
        scenario: tuple[str, dict[str, Any]]) -> None:
    name, values = scenario
    documents = render(values)
    url = endpoints(documents)["action_endpoint"]["url"]
    if name == "external-action-server":
        assert url == "http://actions.other:5055/webhook"
        return
    service = find(documents, "Service", f"{RELEASE}-assistant-action-server")
    port = service["spec"]["ports"][0]
    assert url == f"http://{RELEASE}-assistant-action-server.{NAMESPACE}.svc:{port['port']}/webhook"
    deployment = find(documents, "Deployment", f"{RELEASE}-assistant-action-server")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    # The Service's targetPort names a port the container really opens.
    assert port["targetPort"] in [p["name"] for p in container(deployment)["ports"]]
    rasa_service = find(documents, "Service", f"{RELEASE}-assistant-rasa")
    rasa_pods = find(documents, "Deployment", f"{RELEASE}-assistant-rasa")
    assert rasa_service["spec"]["selector"].items() <= \
        rasa_pods["spec"]["template"]["metadata"]["labels"].items()
    assert rasa_service["spec"]["selector"] != service["spec"]["selector"]


def test_probes_point_at_open_ports(scenario: tuple[str, dict[str, Any]]) -> None:
    documents = render(scenario[1])
    for deployment in (d for d in documents if d["kind"] == "Deployment"):
        main = container(deployment)
        ports = {p["name"] for p in main["ports"]}
        assert {"readinessProbe", "livenessProbe"} <= main.keys()
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if probe in main:
                assert main[probe]["httpGet"]["port"] in ports
        assert main["securityContext"]["allowPrivilegeEscalation"] is False
        assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    rasa = container(find(documents, "Deployment", f"{RELEASE}-assistant-rasa"))
    assert rasa["readinessProbe"]["httpGet"]["path"] == "/"  # "Hello from Rasa", no token needed
    assert "startupProbe" in rasa  # loading a model takes minutes


def test_the_model_source_reaches_rasa() -> None:
    url_docs = render(_merge(deploy_values(), SCENARIOS["model-url"]))
    rasa = find(url_docs, "Deployment", f"{RELEASE}-assistant-rasa")
    init = rasa["spec"]["template"]["spec"]["initContainers"][0]
    assert init["env"] == [{"name": "MODEL_URL", "value": "https://models.example.com/coffee.tar.gz"}]
    assert container(rasa)["args"][-2:] == ["--model", "/app/models/model.tar.gz"]
    assert "models" not in endpoints(url_docs)

    server = endpoints(render(_merge(deploy_values(), SCENARIOS["model-server"])))
    assert server["models"] == {"url": "https://models.example.com/coffee",
                                "token": "${MODEL_SERVER_TOKEN}", "wait_time_between_pulls": 20}

    rasax_docs = render(_merge(deploy_values(), SCENARIOS["rasa-x"]))
    assert endpoints(rasax_docs)["models"]["url"] == \
        "http://rasa-x-rasa-x.rasa.svc:5002/api/projects/default/models/tags/production"
    env = container(find(rasax_docs, "Deployment", f"{RELEASE}-assistant-rasa"))["env"]
    assert {"name": "RASA_X_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": "rasa-x", "key": "rasaxToken"}}} in env


def test_tokens_come_from_secrets_not_from_the_pod_spec() -> None:
    documents = render(_merge(deploy_values(), SCENARIOS["ingress-and-tokens-from-values"]))
    rasa = container(find(documents, "Deployment", f"{RELEASE}-assistant-rasa"))
    assert rasa["args"][rasa["args"].index("--auth-token") + 1] == "$(RASA_TOKEN)"
    assert "not-for-git" not in yaml.safe_dump(rasa)
    tokens = find(documents, "Secret", f"{RELEASE}-assistant-tokens")
    assert tokens["stringData"] == {"rasa-token": "not-for-git"}
    credentials = find(documents, "Secret", f"{RELEASE}-assistant-rasa-credentials")
    assert yaml.safe_load(credentials["stringData"]["credentials.yml"]) == {"rest": {}}
    ingress = find(documents, "Ingress", f"{RELEASE}-assistant-rasa")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": f"{RELEASE}-assistant-rasa", "port": {"name": "http"}}


@pytest.mark.parametrize(("values", "message"), [
    ({"rasa": {"model": {"source": "url"}}}, "set rasa.model.url"),
    ({"rasa": {"model": {"source": "s3"}}}, "use none, url, modelServer or rasaX"),
    ({"rasa": {"model": {"source": "rasaX", "rasaX": {"url": "http://rx:5002"}}}},
     "rasa.model.rasaX.token.existingSecret"),
    ({"actionServer": {"image": {"repository": ""}}}, "actionServer.image.repository is empty"),
])
def test_incomplete_values_fail_with_what_to_set(values: dict[str, Any], message: str) -> None:
    with pytest.raises(helm.HelmError, match=message.replace(".", r"\.")):
        render(values)


def test_rendered_manifests_match_the_kubernetes_schemas(
        scenario: tuple[str, dict[str, Any]]) -> None:
    validator = pytest.importorskip("kubernetes_validate")
    for document in render(scenario[1]):
        validator.validate(document, "1.30.0", strict=True)


def test_the_chart_readme_documents_every_value() -> None:
    readme = (CHART / "README.md").read_text(encoding="utf-8")
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))

    # Free-form blocks are documented as one row.
    whole = ("credentials", "Probe", "resources", "endpoints", "securityContext",
             "SecurityContext")

    def leaves(node: Any, prefix: str = "") -> Iterator[str]:
        if isinstance(node, dict) and node and not prefix.endswith(whole):
            for key, value in node.items():
                yield from leaves(value, f"{prefix}.{key}" if prefix else key)
        else:
            yield prefix

    missing = [key for key in leaves(values) if f"`{key}`" not in readme]
    assert missing == [], f"values not in charts/assistant/README.md: {missing}"
