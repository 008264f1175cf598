"""SIGINT or SIGTERM to `ci-toolkit run` alone (its pid, not its process group) stops every
rasa process it started, at one job and at two, and exits 130 or 143; the previous
report.json is untouched and no partial model is left in models/.

Each case signals a few seconds after rasa started, so it costs seconds, not a training.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from ci_toolkit.interrupts import ProcessInfo
from ci_toolkit.rasa.evaluator import WORKER
from tests.rasa_support import copy_example, rasa_executable
from tests.unit.test_interrupts import descendants, survivors, wait_until

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

PREVIOUS_REPORT = b'{"schema_version": "1", "verdict": "passed", "note": "the previous run"}\n'
# After the signal: how long the toolkit may take to exit, and its rasa to be gone.
STOP_WITHIN_S = 10

# (signal, options, rasa processes to wait for) -> exit code
CASES = [
    # One job: the signal lands while the run's rasa interpreter starts to validate.
    (signal.SIGINT, ["--jobs", "1"], 1, 130),
    # Two jobs: training and cross-validation side by side, each in its own interpreter.
    (signal.SIGTERM, ["--jobs", "2", "--no-validate", "--cross-validation", "--folds", "2"],
     2, 143),
]


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def is_rasa(command: str) -> bool:
    """A rasa command's own process, or a rasa interpreter that runs the run's rasa commands
    (ci_toolkit/rasa/evaluator_worker.py)."""
    return WORKER.name in command or any(f" {word} " in command
                                         for word in ("test", "train", "validate"))


def working_in(project: Path) -> list[int]:
    """Processes whose working directory is the project: rasa runs there."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if Path(os.readlink(entry / "cwd")).is_relative_to(project):
                found.append(int(entry.name))
        except (OSError, ValueError):
            continue
    return found


def complete(archive: Path) -> bool:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.isfile():
                    extracted = tar.extractfile(member)
                    assert extracted is not None
                    extracted.read()
        return True
    except (tarfile.TarError, EOFError, OSError):
        return False


@pytest.mark.parametrize(("signum", "options", "rasa_count", "code"), CASES)
def test_a_signal_to_the_toolkit_stops_its_rasa_and_keeps_the_old_report(
        tmp_path: Path, signum: int, options: list[str], rasa_count: int, code: int) -> None:
    project = copy_example(tmp_path / "coffeebot")
    report = project / "reports" / "report.json"
    report.parent.mkdir()
    report.write_bytes(PREVIOUS_REPORT)
    models = project / "models"
    env = {**os.environ, "CI_TOOLKIT_RASA": rasa_executable()}
    env.pop("GITHUB_ACTIONS", None)
    toolkit = subprocess.Popen(
        [sys.executable, "-m", "ci_toolkit.cli", "run", str(project), *options],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    seen: dict[tuple[int, int], ProcessInfo] = {}
    try:
        def rasa_running() -> bool:
            for process in descendants(toolkit.pid):
                seen[(process.pid, process.started)] = process
            rasa = [p for p in seen.values() if is_rasa(command_line(p.pid))]
            return len(rasa) >= rasa_count

        wait_until(rasa_running, 120, f"{rasa_count} rasa processes")
        time.sleep(3)  # rasa is importing its libraries, maybe starting workers
        rasa_running()
        os.kill(toolkit.pid, signum)
        signalled = time.monotonic()
        output, _ = toolkit.communicate(timeout=60)
        took = time.monotonic() - signalled

        assert toolkit.returncode == code, output[-3000:]
        assert f"interrupted by {signal.Signals(signum).name}" in output
        assert "Traceback" not in output
        assert took < STOP_WITHIN_S, output[-3000:]
        recorded = list(seen.values())
        assert survivors(recorded) == [], [command_line(p.pid) for p in survivors(recorded)]
        assert working_in(project) == []
        assert report.read_bytes() == PREVIOUS_REPORT
        assert not (project / "reports" / "report-rtt.json").exists()
        partial = [a.name for a in models.glob("*.tar.gz") if not complete(a)]
        assert partial == []
    finally:
        if toolkit.poll() is None:
            toolkit.kill()
            toolkit.wait()
        for leftover in survivors(list(seen.values())):
            os.kill(leftover.pid, signal.SIGKILL)
