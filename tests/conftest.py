"""Fixtures and checks for the whole suite.

The markers decide the tiers (pyproject.toml; README "Testing"): the fast tier is
`-m "not rasa and not docker"`, so a test that starts real rasa or a Docker engine without
its marker would slip into it and make it slow, or fail on a machine without rasa. Such a
test fails here instead, at set-up, with the marker it needs.

scripts/test.sh runs each tier on two pytest-xdist workers with `--dist loadgroup`; the groups
(`xdist_group`, set below) keep what must not be shared or duplicated on one worker.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import rasa_support
from tests.fakes import fake_rasa as fake_rasa_module

# Fixtures that start real services, and the marker each needs.
SERVICE_FIXTURES = {
    "docker": ("docker_engine", "docker_client", "sdk_base_image", "registry", "auth_registry"),
    "rasa": ("full_run", "example_model"),
}


def missing_markers(item: pytest.Item) -> list[str]:
    """The service markers that ITEM lacks although it uses one of their fixtures."""
    marked = {marker.name for marker in item.iter_markers()}
    used = set(getattr(item, "fixturenames", ()))
    return [marker for marker, fixtures in SERVICE_FIXTURES.items()
            if marker not in marked and used.intersection(fixtures)]


def worker_group(item: pytest.Item) -> str:
    """Which tests must run on one pytest-xdist worker, one after the other.

    The tests of one Docker engine (a session fixture: two would fight over the images) and
    the tests of the suite's one cold run and model (trained once per worker that asks for
    it) each form one group; any other test stays with its module, whose module- and
    session-scoped fixtures are then made once.
    """
    used = set(getattr(item, "fixturenames", ()))
    if item.get_closest_marker("docker") is not None or used.intersection(SERVICE_FIXTURES["docker"]):
        return "docker-engine"
    if used.intersection(SERVICE_FIXTURES["rasa"]):
        return "suite-model"
    return item.nodeid.split("::", 1)[0]


# tryfirst: pytest-xdist reads the groups in its own hook of the same name.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.xdist_group(worker_group(item)))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    missing = missing_markers(item)
    if missing:
        pytest.fail(f"{item.nodeid} uses {' and '.join(missing)} but lacks "
                    + ", ".join(f"@pytest.mark.{m}" for m in missing), pytrace=False)
    # Tests that run rasa without a fixture (rasa_support.rasa_executable) are caught there.
    rasa_support.permit_rasa(item.get_closest_marker("rasa") is not None)


@pytest.fixture
def fake_rasa(tmp_path: Path) -> fake_rasa_module.FakeRasa:
    """A stand-in `rasa` executable (tests/fakes/fake_rasa.py); `str(fake_rasa)` is its path."""
    return fake_rasa_module.install(tmp_path / "fake-rasa")
