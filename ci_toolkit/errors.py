"""One base error for every failure a user can act on, with fixed exit codes.

Exit codes (documented in the README):
  0    every enabled stage passed
  1    a stage, gate or remote call failed (ToolkitError)
  2    bad usage: options, paths, malformed input files (UsageError, click usage errors)
  3    an unexpected bug in ci-toolkit (a traceback is printed)
  130  interrupted (Ctrl-C)
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BUG = 3
EXIT_INTERRUPTED = 130


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
