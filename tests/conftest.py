"""Fixtures and checks for the whole suite.

The markers decide the tiers (pyproject.toml; README "Testing"): the fast tier is
`-m "not rasa and not docker"`, so a test that starts real rasa or a Docker engine without
its marker would slip into it and make it slow, or fail on a machine without rasa. Such a
test fails here instead, at set-up, with the marker it needs.

scripts/test.sh runs each tier on two pytest-xdist workers (`--dist loadscope`); the scheduler
below sends each test file to one worker, and the files of WORKER_GROUPS together.
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


# Test files that must run on one pytest-xdist worker, one after the other: the tests of the
# suite's one cold run and model (trained once per worker that asks for it), and those of one
# Docker engine (a session fixture: two engines would each pull and build the same images).
WORKER_GROUPS = {
    "suite-model": ("test_action_run.py", "test_cache.py", "test_pipeline.py",
                    "test_prediction_trace.py", "test_rasa_server_deploy.py"),
    "docker-engine": ("test_image.py", "test_image_push.py"),
}


def file_group(nodeid: str) -> str:
    """The unit of work of a test for the scheduler: its WORKER_GROUPS group, else its file
    (whose module- and session-scoped fixtures are then made once)."""
    path = nodeid.split("::", 1)[0]
    name = path.rsplit("/", 1)[-1]
    return next((group for group, files in WORKER_GROUPS.items() if name in files), path)


def needed_group(item: pytest.Item) -> str | None:
    """The group ITEM's fixtures put it in, or None."""
    used = set(getattr(item, "fixturenames", ()))
    if item.get_closest_marker("docker") is not None or used.intersection(SERVICE_FIXTURES["docker"]):
        return "docker-engine"
    if used.intersection(SERVICE_FIXTURES["rasa"]):
        return "suite-model"
    return None


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    from xdist.scheduler import LoadScopeScheduling

    class FileGroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return file_group(nodeid)

    return FileGroupScheduling(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    missing = missing_markers(item)
    if missing:
        pytest.fail(f"{item.nodeid} uses {' and '.join(missing)} but lacks "
                    + ", ".join(f"@pytest.mark.{m}" for m in missing), pytrace=False)
    group = needed_group(item)
    if group is not None and file_group(item.nodeid) != group:
        pytest.fail(f"{item.nodeid} uses the fixtures of the worker group {group!r}: add its "
                    f"file to WORKER_GROUPS[{group!r}] in tests/conftest.py", pytrace=False)
    # Tests that run rasa without a fixture (rasa_support.rasa_executable) are caught there.
    rasa_support.permit_rasa(item.get_closest_marker("rasa") is not None)


@pytest.fixture
def fake_rasa(tmp_path: Path) -> fake_rasa_module.FakeRasa:
    """A stand-in `rasa` executable (tests/fakes/fake_rasa.py); `str(fake_rasa)` is its path."""
    return fake_rasa_module.install(tmp_path / "fake-rasa")
