"""Every unit test signs its stage cache with a key of its own, never the user's
(ci_toolkit/pipeline/cache_key.py). Integration tests share the suite's key: their reruns
must hit the entries of the cold run."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def private_cache_key(tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
    monkeypatch.delenv("CI_TOOLKIT_CACHE_KEY", raising=False)
