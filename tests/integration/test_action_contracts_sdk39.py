"""`ci-toolkit actions test` against the REAL action server of rasa-sdk >= 3.9
(tests/sdk_support.py), over HTTP with the domain-digest exchange and over gRPC.

One server start per transport: the example over HTTP; a copy with one broken action over
gRPC (the example's checks pass, the broken action fails with its fault named); the example
over gRPC with TLS (a self-signed certificate made for the run).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ci_toolkit import cli
from tests.integration.test_action_contracts import BROKEN_ACTIONS
from tests.rasa_support import copy_example
from tests.sdk_support import sdk39_python

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

Run = tuple[int, dict[str, Any], Path]
EXAMPLE_CASES = ("places the order that the form collected",
                 "accepts a drink from the menu, in any case",
                 "refuses a drink that is not on the menu",
                 "asks again for a size it does not know")


def _run(project: Path, *options: str) -> Run:
    code = cli.main(["actions", "test", str(project), "--python", sdk39_python(), *options])
    results = project / "results" / "actions" / "actions.json"
    return code, json.loads(results.read_text()), project


def _statuses(data: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["status"] for check in data["checks"]}


def _example_checks(prefix: str, unknown: str, digest: str) -> list[str]:
    return [f"{prefix}{name}" for name in (
        "protocol: validate_order_form", "protocol: action_place_order", unknown, digest,
        *(f"case: {case}" for case in EXAMPLE_CASES))]


@pytest.fixture(scope="module")
def http_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _run(copy_example(tmp_path_factory.mktemp("http") / "bot"))


@pytest.fixture(scope="module")
def grpc_broken_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    project = copy_example(tmp_path_factory.mktemp("grpc") / "bot")
    # The first broken action of the HTTP tests: it raises.
    explode = BROKEN_ACTIONS.split("\n\n\nclass ActionTeleport")[0]
    with (project / "actions" / "actions.py").open("a") as actions:
        actions.write(explode + "\n")
    domain = project / "domain.yml"
    domain.write_text(domain.read_text().replace(
        "  - action_place_order\n", "  - action_place_order\n  - action_explode\n"))
    return _run(project, "--grpc")


def test_the_example_passes_over_http_with_the_digest_exchange(http_run: Run) -> None:
    code, data, _ = http_run
    assert code == 0, json.dumps(data, indent=1)[:3000]
    assert data["server"]["sdk_version"].startswith("3.")
    statuses = _statuses(data)
    names = _example_checks("", "unknown action answers 404",
                            "domain digest: 449 for an uncached digest, then cached")
    assert all(statuses[name] == "passed" for name in names), statuses
    assert statuses["deflate-compressed request body"] == "passed"
    digest = next(check for check in data["checks"] if check["kind"] == "domain_digest")
    # The request shown is the digest alone; the answer is the cached one's.
    assert "domain" not in digest["request"] and digest["request"]["domain_digest"]
    assert digest["answer"]["status"] == 200


def test_the_example_passes_over_grpc_and_a_broken_action_fails(grpc_broken_run: Run
                                                                ) -> None:
    code, data, project = grpc_broken_run
    assert code == 1
    assert data["server"]["url"].startswith("grpc://127.0.0.1:")
    statuses = _statuses(data)
    names = _example_checks("grpc: ", "unknown action answers NOT_FOUND (ACTION)",
                            "domain digest: DOMAIN not found for an uncached digest, then "
                            "cached")
    assert all(statuses[name] == "passed" for name in names), statuses
    assert not any("deflate" in name for name in statuses)
    failed = [check for check in data["checks"] if check["status"] == "failed"]
    assert [check["name"] for check in failed] == ["grpc: protocol: action_explode"]
    [finding] = failed[0]["findings"]
    assert finding["action"] == "action_explode"
    assert finding["message"].startswith(
        "action_explode raised an exception: \"Unexpected <class 'RuntimeError'>: the coffee "
        "machine is on fire\"")
    assert failed[0]["answer"]["grpc_status"] == "UNKNOWN"
    unknown = next(check for check in data["checks"] if check["kind"] == "unknown_action")
    assert unknown["answer"]["grpc_status"] == "NOT_FOUND"
    assert json.loads(unknown["answer"]["grpc_details"])["resource_type"] == "ACTION"
    log = (project / "results" / "actions" / "action-server.log").read_text()
    assert "RuntimeError: the coffee machine is on fire" in log


def test_the_example_passes_over_grpc_with_tls(tmp_path: Path) -> None:
    code, data, project = _run(copy_example(tmp_path / "bot"), "--grpc", "--grpc-tls")
    assert code == 0, json.dumps(data, indent=1)[:3000]
    assert data["server"]["url"].startswith("grpcs://127.0.0.1:")
    assert data["counts"]["passed"] == len(_example_checks("", "", ""))
    # The run's key is not left in the results, which CI uploads.
    assert not list((project / "results").rglob("*.key"))
