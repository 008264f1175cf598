"""One base error for every failure a user can act on, with fixed exit codes.

Exit codes (documented in the README):
  0    every enabled stage passed
  1    a stage, gate or remote call failed (ToolkitError)
  2    bad usage: options, paths, malformed input files (UsageError, click usage errors)
  3    an unexpected bug in ci-toolkit (a traceback is printed)
  128+n  stopped by signal n (Interrupted): 130 SIGINT (Ctrl-C), 143 SIGTERM, 129 SIGHUP
"""

from __future__ import annotations

import signal

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BUG = 3
EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143


class ToolkitError(Exception):
    """An expected failure. The message says what is wrong and how to fix it."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        # Where the problem is, when known: becomes an `::error file=,line=::` annotation.
        self.file = file
        self.line = line

    def __str__(self) -> str:
        return self.message


class UsageError(ToolkitError):
    """Bad input from the user: an option, a path or a file the toolkit cannot use."""

    exit_code = EXIT_USAGE


class Interrupted(BaseException):
    """A signal asked ci-toolkit to stop (Ctrl-C, a cancelled CI job, a closed terminal).

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` on the way up
    (a comment that must not fail the run, a courtesy log) can swallow it. Exits 128 + the
    signal's number, as a shell reports a process the signal killed.
    """

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        self.signal_name = signal_name(signum)
        self.exit_code = 128 + self.signum
        super().__init__(f"interrupted by {self.signal_name}")


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
