"""A signal that stops ci-toolkit stops every process it started, and nothing new starts.

Stages run on worker threads, and Python delivers signals to the main thread only, so a
worker's rasa would train on after Ctrl-C, and outlive a SIGTERM. Instead:

- every child is started through ``start`` in a session (and process group) of its own, so
  the group holds the child's own children too (rasa's workers), and is remembered here;
- ``handle_signals`` (around the CLI) makes SIGINT, SIGTERM and SIGHUP send SIGTERM to
  every remembered group, SIGKILL to whatever is left after ``GRACE_S`` (at once on a
  second signal), and raise ``Interrupted`` in the main thread;
- after that, ``start`` refuses to start anything, and ``proc.run`` turns a child that ends
  after the interrupt into ``Interrupted`` on its own thread too, so no stage reads a killed
  child's leftovers as a result (or caches them);
- ``discard_partial`` removes the files a stopped child was writing (rasa writes its model
  archive in place, so a kill mid-write leaves a truncated .tar.gz).

Standard library only (ci_toolkit's base layer). POSIX: process groups and /proc (Linux)
or kill(pgid, 0) elsewhere.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TextIO, TypeVar

from ci_toolkit.errors import Interrupted

# The signals that end a run: Ctrl-C, a cancelled CI job, a closed terminal.
SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# How long a stopped group may take to exit on SIGTERM before it gets SIGKILL.
GRACE_S = 5.0
_POLL_S = 0.05
_PROC = Path("/proc")

Child = TypeVar("Child", bound="subprocess.Popen[Any]")


class _State:
    def __init__(self) -> None:
        # Re-entrant: the handler runs on the main thread, maybe inside `start` there.
        self.lock = threading.RLock()
        self.children: dict[int, subprocess.Popen[Any]] = {}  # pid = its process group
        self.signum: int | None = None
        self.stopping: set[int] = set()  # process groups sent SIGTERM
        self.stopper: threading.Thread | None = None
        # >0 while the main thread starts a child: raising there could lose the Popen
        # of a running child, so the handler leaves the raising to proc.run.
        self.shielded = 0


_state = _State()


def interrupted() -> int | None:
    """The signal that interrupted this run, or None."""
    return _state.signum


def check() -> None:
    """Raise Interrupted if a signal asked the run to stop."""
    if _state.signum is not None:
        raise Interrupted(_state.signum)


def start(spawn: Callable[[], Child]) -> Child:
    """``spawn()`` (a Popen with ``start_new_session=True``), remembered until ``forget``.

    Refuses (Interrupted) once the run was interrupted. A child started while the signal
    arrived is stopped at once, like the others.
    """
    main = threading.current_thread() is threading.main_thread()
    with _state.lock:
        check()
        _state.shielded += int(main)
        try:
            child = spawn()
            _state.children[child.pid] = child
        finally:
            _state.shielded -= int(main)
    if _state.signum is not None:
        _stop_children(escalate=False)
    return child


def forget(child: subprocess.Popen[Any]) -> None:
    """The child has ended (and was reaped): its pid may be reused, never signal it again."""
    with _state.lock:
        _state.children.pop(child.pid, None)


def stop_group(child: subprocess.Popen[Any], grace_s: float = GRACE_S) -> None:
    """Stop a child with its whole process group: SIGTERM, then SIGKILL after ``grace_s``
    (at once when it is 0)."""
    if grace_s > 0:
        _signal_group(child.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            child.wait(timeout=grace_s)
    # Also when the leader has exited: its own children may linger in the group.
    _signal_group(child.pid, signal.SIGKILL)
    child.wait()
    _kill_until_gone({child.pid}, GRACE_S)


def _signal_group(pgid: int, signum: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _stop_children(*, escalate: bool) -> None:
    """SIGTERM every group not told yet (SIGKILL to all when ``escalate``); make sure a
    stopper thread SIGKILLs what survives the grace period."""
    state = _state
    with state.lock:
        groups = set(state.children)
        new = groups - state.stopping
        state.stopping |= groups
        for pgid in sorted(state.stopping if escalate else new):
            _signal_group(pgid, signal.SIGKILL if escalate else signal.SIGTERM)
        if state.stopper is None:
            # Not left to the main thread: it may be waiting for a worker that waits for
            # a child that ignores SIGTERM.
            state.stopper = threading.Thread(target=_reap_stopping, args=(state,),
                                             name="ci-toolkit-stopper", daemon=True)
            state.stopper.start()


def _reap_stopping(state: _State) -> None:
    """SIGKILL the groups that outlive the grace period; return when all are gone."""
    _until_gone(state.stopping, GRACE_S, kill=False)
    _kill_until_gone(state.stopping, GRACE_S)


def _kill_until_gone(groups: set[int], timeout_s: float) -> bool:
    # Until the group is empty, not once: SIGKILL takes effect asynchronously (on a busy
    # machine a killed worker still shows as running for a moment), and a process forked
    # just as the group was signalled may have missed it.
    return _until_gone(groups, timeout_s, kill=True)


def _until_gone(groups: set[int], timeout_s: float, *, kill: bool) -> bool:
    """Wait (sending SIGKILL each round when ``kill``) until no group has a live member."""
    deadline = time.monotonic() + timeout_s
    while live := _live(groups):
        if time.monotonic() >= deadline:
            return False
        for pgid in sorted(live) if kill else ():
            _signal_group(pgid, signal.SIGKILL)
        time.sleep(_POLL_S)
    return True


def wait_stopped() -> int:
    """Wait until every group the interrupt stopped is gone; how many there were."""
    stopper = _state.stopper
    if stopper is not None:
        stopper.join(timeout=3 * GRACE_S)
    return len(_state.stopping)


def report(stop: Interrupted, stderr: TextIO | None = None) -> int:
    """Wait until what the interrupt stopped is gone, say so in one line, and return the
    exit code (128 + the signal). Call it inside ``handle_signals``."""
    stopped = wait_stopped()
    what = (f"stopped the {stopped} process{'es' if stopped > 1 else ''} it had started "
            "(with their children)" if stopped else "no process of its own was running")
    # The terminal may be gone (SIGHUP); the exit code still tells.
    with suppress(OSError):
        print(f"error: ci-toolkit was interrupted by {stop.signal_name}; {what}. Nothing "
              "from the interrupted work was saved; run the command again.",
              file=stderr or sys.stderr, flush=True)
    return stop.exit_code


def _on_signal(signum: int, frame: FrameType | None) -> None:
    first = _state.signum is None
    if first:
        _state.signum = signum
    # A second signal: the user insists, so no grace period.
    _stop_children(escalate=not first)
    if first and not _state.shielded:
        raise Interrupted(signum)


def _reset() -> None:
    global _state
    _state = _State()


@contextmanager
def handle_signals() -> Iterator[None]:
    """Within the block, SIGINT, SIGTERM and SIGHUP stop every child (see the module) and
    raise Interrupted in the main thread. Only the main thread can install handlers;
    elsewhere (a test calling the CLI on a thread) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _reset()
    previous = {signum: signal.signal(signum, _on_signal) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _reset()


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    ppid: int
    pgid: int
    state: str  # "Z" for a zombie: it has exited and waits to be reaped
    started: int  # clock ticks after boot: with the pid, identifies the process


def processes() -> list[ProcessInfo]:
    """Every process on this machine (Linux: from /proc; elsewhere an empty list)."""
    found = []
    for entry in _PROC.glob("[0-9]*"):
        with suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
            fields = stat[stat.rindex(")") + 2:].split()
            found.append(ProcessInfo(pid=int(entry.name), ppid=int(fields[1]),
                                     pgid=int(fields[2]), state=fields[0],
                                     started=int(fields[19])))
    return found


def _live(groups: set[int]) -> set[int]:
    """The groups that still have a running (not zombie) member."""
    groups = set(groups)  # a copy: the handler may add to it meanwhile
    if not groups:
        return set()
    if _PROC.is_dir():
        return {p.pgid for p in processes() if p.pgid in groups and p.state != "Z"}
    live = set()
    for pgid in groups:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, 0)
            live.add(pgid)
    return live


def _stamps(directory: Path, pattern: str) -> dict[Path, tuple[int, int, int]]:
    stamps = {}
    for path in directory.glob(pattern):
        with suppress(OSError):
            stat = path.stat()
            stamps[path] = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    return stamps


@contextmanager
def discard_partial(directory: Path, pattern: str) -> Iterator[None]:
    """Files matching ``pattern`` in ``directory`` that appear or change within the block
    are removed if the block is cut short (interrupt, timeout): the child that wrote them
    was stopped, maybe mid-write. Wrap the one call that runs the child."""
    before = _stamps(directory, pattern)
    try:
        yield
    except BaseException:
        for path, stamp in _stamps(directory, pattern).items():
            if before.get(path) != stamp:
                path.unlink(missing_ok=True)
        raise
