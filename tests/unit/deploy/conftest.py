"""Fixtures shared by the deploy tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.fake_helm import FakeHelm, deployed


@pytest.fixture
def fake_helm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHelm:
    """The helm stand-in first on PATH, with release 'coffee' deployed at revision 2."""
    helm = FakeHelm(tmp_path / "bin", {"coffee": deployed("superseded", "deployed")})
    for name, value in helm.env().items():
        monkeypatch.setenv(name, value)
    return helm
