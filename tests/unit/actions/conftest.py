"""Shared pieces of the action contract tests' unit tests: the example's domain."""

from __future__ import annotations

import pytest

from ci_toolkit.actions.domain import ActionDomain, load_domain
from tests import paths


@pytest.fixture(scope="session")
def domain() -> ActionDomain:
    return load_domain(paths.EXAMPLE / "domain.yml")
