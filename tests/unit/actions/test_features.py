"""Which rasa-sdk supports gRPC and domain caching, from its version."""

from __future__ import annotations

import pytest

from ci_toolkit.actions.features import (
    require_grpc,
    supports_domain_caching,
    supports_grpc,
)
from ci_toolkit.errors import UsageError


@pytest.mark.parametrize(("version", "supported"), [
    ("3.6.2", False), ("3.8.0", False), ("3.9.0", True), ("3.9.0rc1", True),
    ("3.21.1", True), ("4.0.0", True), (None, None), ("", None), ("main", None)])
def test_both_features_came_with_3_9(version: str | None, supported: bool | None) -> None:
    assert supports_grpc(version) is supported
    assert supports_domain_caching(version) is supported


def test_grpc_is_refused_on_an_older_sdk_with_its_version() -> None:
    with pytest.raises(UsageError, match=r"--grpc needs rasa-sdk 3\.9\.0 or later .* but "
                                         r"/venv/bin/python has rasa-sdk 3\.6\.2"):
        require_grpc("3.6.2", "/venv/bin/python")
    with pytest.raises(UsageError, match="cannot be read"):
        require_grpc("dev", "/venv/bin/python")
    require_grpc("3.9.1", "/venv/bin/python")
