"""Which rasa-sdk release supports what, decided from its version (probed from the action
server's interpreter, ci_toolkit/actions/server.py probe_environment).

Both features below came with rasa-sdk 3.9.0 (rasa_sdk/grpc_server.py, and
``ActionExecutor.update_and_return_domain`` in rasa_sdk/executor.py); docs/action-tests.md
keeps the table of features and releases.
"""

from __future__ import annotations

from ci_toolkit.actions.protocol import parse_version
from ci_toolkit.errors import UsageError

GRPC_SINCE = (3, 9, 0)
DOMAIN_CACHING_SINCE = (3, 9, 0)


def _since(version: str | None, since: tuple[int, int, int]) -> bool | None:
    parsed = parse_version(version)
    return None if parsed is None else parsed >= since


def supports_domain_caching(sdk_version: str | None) -> bool | None:
    """Whether that rasa-sdk reads ``domain_digest`` and answers 449 for a digest it has
    not cached; None when the version is unknown (a server given by URL)."""
    return _since(sdk_version, DOMAIN_CACHING_SINCE)


def supports_grpc(sdk_version: str | None) -> bool | None:
    """Whether that rasa-sdk serves gRPC (`python -m rasa_sdk --grpc`)."""
    return _since(sdk_version, GRPC_SINCE)


def _dotted(version: tuple[int, int, int]) -> str:
    return ".".join(map(str, version))


def since_text(since: tuple[int, int, int]) -> str:
    return _dotted(since) + " and later"


def require_grpc(sdk_version: str | None, python: str) -> None:
    """Refuse gRPC contract tests with an interpreter whose rasa-sdk has no gRPC server."""
    if supports_grpc(sdk_version) is False:
        raise UsageError(
            f"--grpc needs rasa-sdk {_dotted(GRPC_SINCE)} or later (its gRPC action server), but "
            f"{python} has rasa-sdk {sdk_version}. Install rasa-sdk>=3.9 (with grpcio) in "
            "the action server's environment, or point --python at one that has it "
            "(scripts/setup-rasa-sdk.sh makes one).")
    if supports_grpc(sdk_version) is None:
        raise UsageError(
            f"--grpc needs rasa-sdk {_dotted(GRPC_SINCE)} or later, and the version of the "
            f"rasa-sdk "
            f"in {python} ({sdk_version!r}) cannot be read. Point --python at an environment "
            "with a released rasa-sdk>=3.9.")
