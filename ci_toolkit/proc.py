"""Run external programs: stream their output live, keep it in a log file, time them.

Every line a child prints is shown as ``[stage mm:ss] line`` so that interleaved output of
stages that run at the same time stays readable, and is captured (without ANSI colours)
for parsing and for the stage's log file.

Every such line first goes through a Redactor of the environment's secrets: a child that
learned a secret anyway (it printed its environment, or a server echoed a token) must not
show it on the console, in a log file or in a report.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ci_toolkit import interrupts
from ci_toolkit.errors import Interrupted, ToolkitError
from ci_toolkit.gha import secret_values
from ci_toolkit.redaction import Redactor

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# tqdm progress bars (rasa's epochs, predictions) redraw many times a second; reading in
# text mode turns every redraw into a line. Show one every few seconds, and the last.
_PROGRESS_BAR = re.compile(r"\d+%\|")
PROGRESS_INTERVAL_S = 5.0


def strip_ansi(text: str) -> str:
    return ANSI_ESCAPE.sub("", text)


@dataclass(frozen=True)
class Completed:
    """What a finished program left behind."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration_s: float
    log_file: Path | None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


HEARTBEAT_INTERVAL_S = 60.0


class Console:
    """Serialises lines from several children onto one terminal.

    A label can be *held*: its lines are kept back and handed over in one piece when the
    caller releases it (to print them as one block), and meanwhile only a heartbeat, the
    latest line once a minute, shows that the child is alive.
    """

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False,
                 heartbeat_s: float = HEARTBEAT_INTERVAL_S) -> None:
        self._stream = stream or sys.stderr
        self._lock = threading.Lock()
        self.quiet = quiet
        self._colour = self._stream.isatty() and "NO_COLOR" not in os.environ
        self._held: dict[str, list[str]] = {}
        self._last_heartbeat: dict[str, float] = {}
        self._heartbeat_s = heartbeat_s

    def line(self, text: str) -> None:
        self.block([text])

    def block(self, lines: Sequence[str]) -> None:
        """Write lines together: nothing from another thread lands between them."""
        text = "".join(line + "\n" for line in lines)
        if not self._colour:
            text = strip_ansi(text)
        with self._lock:
            self._stream.write(text)
            self._stream.flush()

    def hold(self, label: str) -> None:
        with self._lock:
            self._held[label] = []
            self._last_heartbeat[label] = time.monotonic()

    def release(self, label: str) -> list[str]:
        """Stop holding ``label``; return the lines kept back."""
        with self._lock:
            self._last_heartbeat.pop(label, None)
            return self._held.pop(label, [])

    def child_line(self, label: str, started: float, text: str) -> None:
        if self.quiet:
            return
        elapsed = int(time.monotonic() - started)
        line = f"[{label} {elapsed // 60:02d}:{elapsed % 60:02d}] {text}"
        with self._lock:
            held = self._held.get(label)
            if held is not None:
                held.append(line)
                now = time.monotonic()
                if now - self._last_heartbeat[label] < self._heartbeat_s:
                    return
                self._last_heartbeat[label] = now
                line = f"{line}  (still running; full output when it ends)"
        self.line(line)


def find_executable(program: str, *, hint: str) -> str:
    """Resolve a program from a path or PATH, or fail with a message that says how to fix it."""
    if os.sep in program:
        path = Path(program).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
        raise ToolkitError(f"'{program}' does not exist or is not executable. {hint}")
    found = shutil.which(program)
    if found is None:
        raise ToolkitError(f"'{program}' was not found on PATH. {hint}")
    return found


def _pump(
    pipe: TextIO,
    sink: list[str],
    *,
    label: str,
    started: float,
    console: Console,
    log: TextIO | None,
    log_lock: threading.Lock,
    redact: Redactor,
) -> None:
    last_progress = 0.0
    for raw in iter(pipe.readline, ""):
        shown = redact(raw.rstrip("\n"))
        text = strip_ansi(shown)
        if _PROGRESS_BAR.search(text):
            now = time.monotonic()
            if "100%|" not in text and now - last_progress < PROGRESS_INTERVAL_S:
                continue
            last_progress = now
        sink.append(text + "\n")
        if log is not None:
            with log_lock:
                log.write(text + "\n")
        console.child_line(label, started, shown)
    pipe.close()


def open_log(log_file: Path | None, command_line: str) -> TextIO | None:
    if log_file is None:
        return None
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log = log_file.open("w", encoding="utf-8")
    log.write(f"{command_line}\n")
    return log


def _start(argv: Sequence[str], cwd: Path | None, env: Mapping[str, str] | None,
           log: TextIO | None) -> subprocess.Popen[str]:
    try:
        return interrupts.start(lambda: subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
            # A group of its own: stopping it stops the child's own children too (rasa's
            # workers), and a Ctrl-C in the terminal reaches ci-toolkit alone, which
            # stops the children itself (ci_toolkit/interrupts.py).
            start_new_session=True,
        ))
    except BaseException as error:  # not started: OSError, or refused after an interrupt
        if log is not None:
            log.close()
        if isinstance(error, OSError):
            raise ToolkitError(f"Could not start {argv[0]}: {error.strerror or error}.") \
                from error
        raise


def _start_pumps(streams: tuple[TextIO, TextIO], *, label: str, started: float,
                 console: Console, log: TextIO | None, redact: Redactor,
                 ) -> tuple[list[threading.Thread], list[str], list[str]]:
    """One thread per output stream (stdout, stderr); returns them and the lists they fill."""
    out: list[str] = []
    err: list[str] = []
    log_lock = threading.Lock()
    pumps = [
        threading.Thread(
            target=_pump,
            args=(stream, sink),
            kwargs={"label": label, "started": started, "console": console, "log": log,
                    "log_lock": log_lock, "redact": redact},
            daemon=True,
        )
        for stream, sink in zip(streams, (out, err))
    ]
    for pump in pumps:
        pump.start()
    return pumps, out, err


def _wait(child: subprocess.Popen[str], *, label: str, program: str,
          timeout_s: float | None) -> int:
    """The exit code; a child that runs too long or is interrupted does not outlive us,
    nor do its own children."""
    try:
        return child.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired as error:
        interrupts.stop_group(child, grace_s=0)
        raise ToolkitError(
            f"{label}: '{program}' ran longer than {timeout_s:.0f} s and was stopped."
        ) from error
    except (KeyboardInterrupt, Interrupted):
        interrupts.stop_group(child)
        raise


def environment_redactor(env: Mapping[str, str] | None = None) -> Redactor:
    """A Redactor of the secrets in our environment and in a child's ``env``."""
    return Redactor([*secret_values(os.environ), *secret_values(env or {})])


@dataclass(frozen=True)
class Output:
    """Where a program's output goes: shown with ``label``, kept in ``log_file``, redacted."""

    label: str
    console: Console
    log_file: Path | None
    redact: Redactor

    def announce(self, argv: Sequence[str]) -> str:
        command_line = self.redact(f"$ {shlex.join(argv)}")
        self.console.child_line(self.label, time.monotonic(), command_line)
        return command_line


def follow(argv: Sequence[str], streams: tuple[TextIO, TextIO], wait: Callable[[], int], *,
           output: Output, log: TextIO | None, started: float) -> Completed:
    """Stream a program's stdout and stderr pipes until ``wait()`` gives its exit code and
    both pipes have ended, as ``run`` does for a child it started.

    ``log`` (opened by ``open_log``) is closed here, with the exit code as its last line."""
    pumps, out, err = _start_pumps(streams, label=output.label, started=started,
                                   console=output.console, log=log, redact=output.redact)
    returncode: int | None = None
    try:
        returncode = wait()
    finally:
        for pump in pumps:
            pump.join(timeout=5)
        if log is not None:
            log.write(f"# exit code {returncode if returncode is not None else 'none: stopped'}\n")
            log.close()
    interrupts.check()
    return Completed(argv=tuple(argv), returncode=returncode, stdout="".join(out),
                     stderr="".join(err), duration_s=time.monotonic() - started,
                     log_file=output.log_file)


def run(
    argv: Sequence[str],
    *,
    label: str,
    console: Console,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    log_file: Path | None = None,
    timeout_s: float | None = None,
    redact: Redactor | None = None,
) -> Completed:
    """Run ``argv`` to completion, streaming both output streams through ``console``.

    Never raises for a non-zero exit: the caller decides what success means (rasa often
    exits 0 on failure and vice versa). Raises ToolkitError only if the program cannot start
    or runs past ``timeout_s``, and Interrupted (on any thread) once a signal stopped the
    run: then nothing starts, and a child that ends is no result (it was killed).

    Output and the command line are redacted with ``redact``, by default a Redactor of the
    secrets in our environment and in ``env``.
    """
    argv = tuple(str(a) for a in argv)
    output = Output(label, console, log_file, redact or environment_redactor(env))
    interrupts.check()
    log = open_log(log_file, output.announce(argv))
    started = time.monotonic()
    child = _start(argv, cwd, env, log)

    def wait() -> int:
        try:
            return _wait(child, label=label, program=argv[0], timeout_s=timeout_s)
        finally:
            interrupts.forget(child)

    assert child.stdout is not None and child.stderr is not None  # both are pipes
    return follow(argv, (child.stdout, child.stderr), wait, output=output, log=log,
                  started=started)
