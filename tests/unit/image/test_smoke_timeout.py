"""`image build --smoke-timeout` is a finite number of seconds of at least 1, like deploy's:
nan and inf are exit 2 before docker is asked anything."""

from __future__ import annotations

import pytest

from ci_toolkit.cli import main

OPTION = ("--smoke-timeout (CI_TOOLKIT_CONTAINER_CHECK_TIMEOUT) must be a finite number of "
          "seconds, 1 or more")

# (value, the message on stderr)
CASES = [
    ("nan", f"{OPTION}, not nan"),
    ("NaN", f"{OPTION}, not nan"),
    ("inf", f"{OPTION}, not inf"),
    ("1e400", f"{OPTION}, not inf"),
    ("-inf", "-inf is not in the range x>=1"),
    ("0.5", "0.5 is not in the range x>=1"),
    ("soon", "'soon' is not a valid float"),
]


@pytest.mark.parametrize(("value", "message"), CASES)
def test_a_smoke_timeout_that_is_no_finite_number_is_exit_2(
        value: str, message: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    assert main(["image", "build", f"--smoke-timeout={value}", "--smoke-test"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("value", ["1", "60", "600.5"])
def test_finite_timeouts_are_kept(value: str) -> None:
    from ci_toolkit.image.request import BuildRequest

    assert BuildRequest(smoke_timeout=float(value)).smoke_timeout == float(value)
