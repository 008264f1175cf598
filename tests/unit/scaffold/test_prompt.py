"""Scaffold asks before overwriting only a person at a terminal: stdin to answer and stderr to
see the question. Anywhere else (CI, a pipe, a redirect) a differing file is a conflict:
exit 1 with the files listed, and nothing waits for an answer.

Real processes on a real pseudo-terminal, so what is checked is what `isatty` sees.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
QUESTION = b"Dockerfile differs. Overwrite it?"
MINE = "FROM my-own-base\n"


def _start(bot: Path, stdin: int, stderr: int, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.Popen([sys.executable, "-m", "ci_toolkit.cli", "scaffold", str(bot), *args],
                            stdin=stdin, stdout=subprocess.PIPE, stderr=stderr, env=env,
                            cwd=REPO_ROOT)


def _read_until(fd: int, wanted: bytes, timeout: float = 60) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:  # the other side closed
                break
    return seen


@pytest.fixture
def conflicting(bot: Path) -> Path:
    """The example with scaffold's files, then a Dockerfile of the user's own."""
    done = subprocess.run([sys.executable, "-m", "ci_toolkit.cli", "scaffold", str(bot)],
                          cwd=REPO_ROOT, capture_output=True, env={**os.environ,
                                                                   "PYTHONPATH": str(REPO_ROOT)})
    assert done.returncode == 0, done.stderr
    (bot / "Dockerfile").write_text(MINE, encoding="utf-8")
    return bot


@pytest.mark.parametrize("stdin", ["closed", "terminal-but-stderr-is-a-pipe"])
def test_without_a_person_at_a_terminal_a_conflict_is_an_error_listing_the_files(
        conflicting: Path, stdin: str) -> None:
    main_fd, terminal = pty.openpty()
    process = _start(conflicting, subprocess.DEVNULL if stdin == "closed" else terminal,
                     subprocess.PIPE)
    try:
        out, err = process.communicate(timeout=60)  # a question would wait: a timeout
    finally:
        process.kill()
        os.close(main_fd)
        os.close(terminal)
    assert process.returncode == 1, err
    assert QUESTION not in err
    assert b"1 file(s) differ from what scaffold writes and were left as they are: Dockerfile." \
        in err
    assert b"rerun with --force" in err
    assert b"-FROM my-own-base" in out  # the diff is shown
    assert (conflicting / "Dockerfile").read_text(encoding="utf-8") == MINE


@pytest.mark.parametrize(("answer", "code", "kept"), [(b"n\n", 1, True), (b"\n", 1, True),
                                                      (b"y\n", 0, False)])
def test_a_person_at_a_terminal_is_asked_and_no_is_the_default(
        conflicting: Path, answer: bytes, code: int, kept: bool) -> None:
    main_fd, terminal = pty.openpty()
    process = _start(conflicting, terminal, terminal)
    try:
        asked = _read_until(main_fd, QUESTION)
        os.write(main_fd, answer)
        process.communicate(timeout=60)
        _read_until(main_fd, b"\n", timeout=1)
    finally:
        process.kill()
        os.close(main_fd)
        os.close(terminal)
    assert QUESTION in asked
    assert process.returncode == code
    assert ((conflicting / "Dockerfile").read_text(encoding="utf-8") == MINE) is kept
