"""A signal to ci-toolkit alone stops every process it started, at any number of jobs.

The scenarios run in a subprocess that the test signals (never the pytest process): the
real CLI boundary (`cli.main`), the real scheduler threads and real children, each of which
starts a grandchild of its own, as rasa starts workers. What must hold after the signal:
the exit code (128 + the signal), its message, and not one child or grandchild left alive.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ci_toolkit import interrupts, proc
from ci_toolkit.errors import Interrupted
from ci_toolkit.interrupts import ProcessInfo
from tests.rasa_support import copy_example

# A child as rasa is one: it starts a worker of its own, then works for a long time.
# With "ignore" both ignore SIGTERM (an ignored signal stays ignored across exec).
CHILD = r"""
import signal, subprocess, sys, time
if "ignore" in sys.argv[1:]:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
time.sleep(120)
"""

# `ci-toolkit fake JOBS MODE GRACE`: JOBS children at once on the pipeline's scheduler.
SCENARIO = r"""
import io, sys
import click
from ci_toolkit import cli, interrupts, proc
from ci_toolkit.pipeline.scheduler import Scheduler

CHILD = sys.argv[1]


@click.command()
@click.argument("jobs", type=int)
@click.argument("mode")
@click.argument("grace", type=float)
def fake(jobs, mode, grace):
    interrupts.GRACE_S = grace
    console = proc.Console(io.StringIO())
    tasks = {f"task{i}": () for i in range(jobs)}
    Scheduler(tasks, jobs=jobs).run(lambda task: proc.run(
        [sys.executable, "-c", CHILD, mode], label=task, console=console))


cli.COMMANDS["fake"] = ("__main__", "fake", "A stand-in command.")
sys.exit(cli.main(["fake", *sys.argv[2:]]))
"""

# A rasa that hangs in every command (with a worker of its own), for `ci-toolkit run`.
# `train` has begun its archive, as real rasa does at the end: writing it in place.
HANGING_RASA = """#!{python}
import pathlib, subprocess, sys, time
if "--version" in sys.argv:
    print("Rasa Version      :  3.6.21")
    sys.exit(0)
if "train" in sys.argv:
    out = pathlib.Path(sys.argv[sys.argv.index("--out") + 1])
    (out / "20261201-000000-partial.tar.gz").write_bytes(bytes([0x1f, 0x8b, 8]))
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
time.sleep(120)
"""


def descendants(root: int) -> list[ProcessInfo]:
    """The processes below ROOT (from /proc), children before grandchildren."""
    table = interrupts.processes()
    found: list[ProcessInfo] = []
    parents = {root}
    while True:
        level = [p for p in table if p.ppid in parents and p not in found]
        if not level:
            return found
        found += level
        parents = {p.pid for p in level}


def survivors(recorded: list[ProcessInfo]) -> list[ProcessInfo]:
    """The recorded processes that still run, and anything else in their process groups."""
    groups = {p.pgid for p in recorded}
    ids = {(p.pid, p.started) for p in recorded}
    return [p for p in interrupts.processes() if p.state != "Z"
            and ((p.pid, p.started) in ids or (p.pgid in groups and p.pgid != os.getpgid(0)))]


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Signalled:
    """A started toolkit process, the processes below it, and what it said on exit."""

    def __init__(self, argv: list[str], *, expect: int, env: dict[str, str] | None = None,
                 ) -> None:
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, env=env)
        self.recorded: list[ProcessInfo] = []
        wait_until(lambda: len(self._record()) >= expect, 60,
                   f"{expect} processes below the toolkit")

    def _record(self) -> list[ProcessInfo]:
        self.recorded = descendants(self.process.pid)
        return self.recorded

    def signal(self, *signums: int) -> tuple[int, str, float]:
        """Send the signals to the toolkit's pid alone; its exit code, stderr and how long
        it took to exit."""
        started = time.monotonic()
        for signum in signums:
            os.kill(self.process.pid, signum)
            time.sleep(0.1)
        _, stderr = self.process.communicate(timeout=30)
        return self.process.returncode, stderr, time.monotonic() - started

    def kill_leftovers(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for leftover in survivors(self.recorded):
            os.kill(leftover.pid, signal.SIGKILL)


@pytest.fixture
def toolkit() -> Iterator[Callable[..., Signalled]]:
    started: list[Signalled] = []

    def start(argv: list[str], **kwargs: object) -> Signalled:
        started.append(Signalled(argv, **kwargs))  # type: ignore[arg-type]
        return started[-1]

    yield start
    for run in started:  # a failed test must not leave sleepers behind
        run.kill_leftovers()


# (signals sent, jobs, child mode, grace period) -> (exit code, message, most seconds to exit)
# The limits leave room for a busy machine: the point is seconds, not a training's minutes.
STOP_CASES = [
    ((signal.SIGINT,), 1, "", 5.0, 130, "interrupted by SIGINT; stopped the 1 process", 8),
    ((signal.SIGTERM,), 2, "", 5.0, 143, "interrupted by SIGTERM; stopped the 2 processes", 8),
    ((signal.SIGHUP,), 2, "", 5.0, 129, "interrupted by SIGHUP; stopped the 2 processes", 8),
    # Children that ignore SIGTERM get SIGKILL after the grace period...
    ((signal.SIGTERM,), 3, "ignore", 1.0, 143, "stopped the 3 processes", 9),
    # ... or at once on a second signal; the first one decides the exit code.
    ((signal.SIGINT, signal.SIGTERM), 2, "ignore", 60.0, 130, "interrupted by SIGINT", 10),
]


@pytest.mark.parametrize(("signums", "jobs", "mode", "grace", "code", "message", "most_s"),
                         STOP_CASES)
def test_a_signal_stops_every_child_and_grandchild(
        toolkit: Callable[..., Signalled], signums: tuple[int, ...], jobs: int, mode: str,
        grace: float, code: int, message: str, most_s: float) -> None:
    # Each job: its child and the child's own worker.
    run = toolkit([sys.executable, "-c", SCENARIO, CHILD, str(jobs), mode, str(grace)],
                  expect=2 * jobs)
    exit_code, stderr, took = run.signal(*signums)
    assert exit_code == code, stderr
    assert message in stderr and stderr.count("\n") == 1  # one line, no traceback
    assert took < most_s
    # The toolkit waited for them: nothing is left the moment it has exited.
    assert survivors(run.recorded) == []


def start_run(toolkit: Callable[..., Signalled], tmp_path: Path, options: list[str],
              expect: int) -> tuple[Signalled, Path]:
    """`ci-toolkit run` on a copy of the example with the hanging rasa, once EXPECT
    processes run below it; and the project."""
    project = copy_example(tmp_path / "coffeebot")
    (project / "reports").mkdir()
    (project / "reports" / "report.json").write_text(PREVIOUS_REPORT)
    rasa = tmp_path / "rasa" / "bin" / "rasa"
    rasa.parent.mkdir(parents=True)
    rasa.write_text(HANGING_RASA.format(python=sys.executable))
    rasa.chmod(0o755)
    env = {**os.environ, "CI_TOOLKIT_RASA": str(rasa)}
    env.pop("GITHUB_ACTIONS", None)
    # Without validation, training (and cross-validation) start at once.
    run = toolkit([sys.executable, "-m", "ci_toolkit.cli", "run", str(project),
                   "--no-validate", *options], expect=expect, env=env)
    return run, project


PREVIOUS_REPORT = json.dumps({"previous": "run"})
# (signal, run options, processes below the toolkit) -> exit code
PIPELINE_CASES = [
    (signal.SIGINT, ["--jobs", "1"], 2, 130),
    (signal.SIGTERM, ["--jobs", "2", "--cross-validation", "--folds", "2"], 4, 143),
]


@pytest.mark.parametrize(("signum", "options", "expect", "code"), PIPELINE_CASES)
def test_an_interrupted_run_keeps_the_previous_report(
        toolkit: Callable[..., Signalled], tmp_path: Path, signum: int, options: list[str],
        expect: int, code: int) -> None:
    run, project = start_run(toolkit, tmp_path, options, expect)
    exit_code, stderr, _ = run.signal(signum)
    assert exit_code == code, stderr
    assert f"interrupted by {signal.Signals(signum).name}" in stderr
    assert "Traceback" not in stderr
    assert survivors(run.recorded) == []
    assert (project / "reports" / "report.json").read_text() == PREVIOUS_REPORT
    assert not (project / "reports" / "report-rtt.json").exists()


def test_an_interrupted_training_leaves_no_partial_model(
        toolkit: Callable[..., Signalled], tmp_path: Path) -> None:
    run, project = start_run(toolkit, tmp_path, ["--jobs", "1"], 2)
    assert list((project / "models").glob("*.tar.gz")) != []  # rasa began writing
    exit_code, stderr, _ = run.signal(signal.SIGTERM)
    assert exit_code == 143, stderr
    assert list((project / "models").glob("*.tar.gz")) == []


@pytest.fixture
def handled() -> Iterator[None]:
    """The CLI's signal handling, without a real signal: tests call the handler."""
    with interrupts.handle_signals():
        yield


def test_after_an_interrupt_nothing_starts(handled: None, tmp_path: Path) -> None:
    with pytest.raises(Interrupted):
        interrupts._on_signal(signal.SIGTERM, None)
    with pytest.raises(Interrupted) as raised:
        proc.run([sys.executable, "-c", "open('started', 'w')"], label="late",
                 console=proc.Console(io.StringIO()), cwd=tmp_path,
                 log_file=tmp_path / "late.log")
    assert raised.value.exit_code == 143
    assert list(tmp_path.iterdir()) == []  # neither started nor logged


def test_a_child_stopped_by_the_interrupt_is_no_result(handled: None) -> None:
    """On a worker thread, the killed child's exit is Interrupted, never a result a stage
    could read (or cache) as a failure or a pass."""
    outcome: list[object] = []

    def work() -> None:
        try:
            outcome.append(proc.run([sys.executable, "-c", CHILD], label="work",
                                    console=proc.Console(io.StringIO())))
        except Interrupted as stop:
            outcome.append(stop)

    # Only what this test starts: in the whole suite, session fixtures (dockerd, a registry)
    # are descendants of the test process too.
    before = {p.pid for p in descendants(os.getpid())}
    worker = threading.Thread(target=work)
    worker.start()

    def running() -> list[ProcessInfo]:
        return [p for p in descendants(os.getpid()) if p.state != "Z" and p.pid not in before]

    wait_until(lambda: len(running()) >= 2, 30, "the child and its worker")
    recorded = running()
    with pytest.raises(Interrupted):
        interrupts._on_signal(signal.SIGINT, None)
    worker.join(timeout=10)
    assert [type(o) for o in outcome] == [Interrupted]
    assert interrupts.wait_stopped() == 1
    assert survivors(recorded) == []


def test_handlers_are_restored_and_the_state_reset() -> None:
    before = {signum: signal.getsignal(signum) for signum in interrupts.SIGNALS}
    with interrupts.handle_signals(), pytest.raises(Interrupted):
        interrupts._on_signal(signal.SIGINT, None)
    assert {signum: signal.getsignal(signum) for signum in interrupts.SIGNALS} == before
    assert interrupts.interrupted() is None
    done = proc.run([sys.executable, "-c", "pass"], label="after",
                    console=proc.Console(io.StringIO()))
    assert done.returncode == 0


# (files before, what the child does, how the block ends) -> files left
PARTIAL_CASES = [
    ("a new archive from an interrupted child is removed", {"old.tar.gz": "old"},
     {"new.tar.gz": "half"}, Interrupted(signal.SIGTERM), {"old.tar.gz": "old"}),
    ("an archive rewritten in place is removed: its old content is gone anyway",
     {"model.tar.gz": "old"}, {"model.tar.gz": "half of the new one"},
     Interrupted(signal.SIGINT), {}),
    ("a timeout cuts it short too", {}, {"new.tar.gz": "half"}, RuntimeError("timeout"), {}),
    ("files of another pattern stay", {}, {"notes.txt": "x", "new.tar.gz": "half"},
     Interrupted(signal.SIGTERM), {"notes.txt": "x"}),
    ("a block that ends normally keeps what it wrote", {"old.tar.gz": "old"},
     {"new.tar.gz": "whole"}, None, {"old.tar.gz": "old", "new.tar.gz": "whole"}),
]


@pytest.mark.parametrize(("case", "before", "written", "ending", "left"), PARTIAL_CASES,
                         ids=[case[0] for case in PARTIAL_CASES])
def test_discard_partial_removes_what_a_stopped_child_was_writing(
        tmp_path: Path, case: str, before: dict[str, str], written: dict[str, str],
        ending: BaseException | None, left: dict[str, str]) -> None:
    for name, text in before.items():
        (tmp_path / name).write_text(text)
        os.utime(tmp_path / name, ns=(0, 0))  # so that a rewrite changes the mtime
    try:
        with interrupts.discard_partial(tmp_path, "*.tar.gz"):
            for name, text in written.items():
                (tmp_path / name).write_text(text)
            if ending is not None:
                raise ending
    except (Interrupted, RuntimeError) as raised:
        assert raised is ending  # never swallowed
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == left
