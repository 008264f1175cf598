"""The process runner with real child processes (the Python running the tests)."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest

from ci_toolkit import interrupts, proc
from ci_toolkit.errors import ToolkitError

CHILD = r"""
import sys, time
print("\x1b[92mgreen on stdout\x1b[0m", flush=True)
print("on stderr", file=sys.stderr, flush=True)
for i in range(200):
    sys.stderr.write(f"\rEpochs: {i // 2}%|###| {i}/200 [00:00<00:00]")
sys.stderr.write("\rEpochs: 100%|###| 200/200 [00:00<00:00]\n")
sys.exit(3)
"""


def test_streams_captures_logs_and_keeps_the_exit_code(tmp_path: Path) -> None:
    screen = io.StringIO()
    done = proc.run([sys.executable, "-c", CHILD], label="demo", console=proc.Console(screen),
                    log_file=tmp_path / "logs" / "demo.log")
    assert done.returncode == 3
    assert done.stdout == "green on stdout\n"  # ANSI colours stripped for parsing
    assert "on stderr" in done.stderr
    shown = screen.getvalue().splitlines()
    assert any(line.startswith("[demo 00:00] ") and "green on stdout" in line for line in shown)
    # 200 progress redraws become a handful of lines, and the final state is kept.
    progress = [line for line in shown if line.startswith("[demo 00:00] Epochs")]
    assert 1 <= len(progress) <= 3 and "100%" in progress[-1]
    log = (tmp_path / "logs" / "demo.log").read_text()
    assert log.startswith("$ ") and "green on stdout" in log and log.rstrip().endswith("# exit code 3")


def test_missing_program_is_a_clear_error() -> None:
    with pytest.raises(ToolkitError, match=r"does not exist or is not executable\. Fix it"):
        proc.find_executable("/no/such/rasa", hint="Fix it.")
    with pytest.raises(ToolkitError, match="was not found on PATH"):
        proc.find_executable("no-such-program-xyz", hint="Fix it.")


# Starts a worker of its own (as rasa does), says its pid, and works on.
PARENT = r"""
import subprocess, sys, time
worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(f"worker pid {worker.pid}", flush=True)
time.sleep(60)
"""


def test_timeout_stops_the_child_and_its_own_children(tmp_path: Path) -> None:
    log = tmp_path / "slow.log"
    with pytest.raises(ToolkitError, match="ran longer than 1 s"):
        proc.run([sys.executable, "-c", PARENT], label="slow",
                 console=proc.Console(io.StringIO()), timeout_s=1, log_file=log)
    worker = int(re.findall(r"worker pid (\d+)", log.read_text())[0])
    running = [p for p in interrupts.processes() if p.pid == worker and p.state != "Z"]
    assert running == []


def test_held_lines_come_back_whole_with_a_heartbeat_meanwhile() -> None:
    screen = io.StringIO()
    console = proc.Console(screen, heartbeat_s=0)
    console.hold("train")
    console.child_line("train", 0, "epoch 1")
    console.child_line("test nlu", 0, "not held")
    kept = console.release("train")
    assert [line.split("] ", 1)[1] for line in kept] == ["epoch 1"]
    shown = screen.getvalue().splitlines()
    # Only the heartbeat of the held label reached the screen, marked as such.
    assert len(shown) == 2 and "epoch 1  (still running" in shown[0] and "not held" in shown[1]
    console.child_line("train", 0, "after release")
    assert "after release" in screen.getvalue().splitlines()[-1]
    assert console.release("train") == []


def test_without_a_due_heartbeat_held_lines_stay_off_the_screen() -> None:
    screen = io.StringIO()
    console = proc.Console(screen, heartbeat_s=3600)
    console.hold("train")
    console.child_line("train", 0, "epoch 1")
    assert screen.getvalue() == "" and len(console.release("train")) == 1


def test_a_program_that_cannot_start_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ToolkitError, match=r"^Could not start /no/such/program: "):
        proc.run(["/no/such/program"], label="x", console=proc.Console(io.StringIO()),
                 log_file=tmp_path / "x.log")
    assert (tmp_path / "x.log").read_text() == "$ /no/such/program\n"


# --- secrets never reach a child's output on screen, in its log or in what is parsed ---

ECHO_ENV = r"""
import os, sys
for name in sys.argv[1:]:
    print(f"{name}={os.environ.get(name, '<unset>')}", flush=True)
print("leaked " + "hunter2-" + "ghp-secret-value", file=sys.stderr, flush=True)
"""

SECRETS = {
    "GITHUB_TOKEN": "ghp-secret-value-1234",
    "CI_TOOLKIT_REGISTRY_PASSWORD": "registry-pass-5678",
    "MY_API_KEY": "custom-api-key-9999",
}


@pytest.mark.parametrize(("name", "value"), SECRETS.items())
def test_a_secret_a_child_prints_is_redacted_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str,
) -> None:
    monkeypatch.setenv(name, value)
    monkeypatch.setenv("CI_TOOLKIT_OTHER_TOKEN", "hunter2-ghp-secret-value")
    screen = io.StringIO()
    done = proc.run([sys.executable, "-c", ECHO_ENV, name], label="echo",
                    console=proc.Console(screen), log_file=tmp_path / "echo.log")
    log = (tmp_path / "echo.log").read_text()
    for text in (screen.getvalue(), log, done.output):
        assert value not in text and "hunter2-ghp-secret-value" not in text
        assert f"{name}=***" in text and "leaked ***" in text


def test_a_secret_only_in_the_childs_env_is_redacted_too(tmp_path: Path) -> None:
    screen = io.StringIO()
    done = proc.run([sys.executable, "-c", ECHO_ENV, "CI_TOOLKIT_RASA_TOKEN"], label="echo",
                    console=proc.Console(screen),
                    env={"PATH": "/usr/bin:/bin", "CI_TOOLKIT_RASA_TOKEN": "rasa-token-4242"})
    assert "rasa-token-4242" not in screen.getvalue() + done.output
    assert "CI_TOOLKIT_RASA_TOKEN=***" in done.stdout


@pytest.mark.parametrize(("name", "value", "passed"), [
    ("GITHUB_TOKEN", "ghp-secret-value-1234", False),
    ("CI_TOOLKIT_REGISTRY_PASSWORD", "registry-pass-5678", False),
    ("CI_TOOLKIT_RASAX_TOKEN", "rasax-token-1111", False),
    ("ACTIONS_RUNTIME_TOKEN", "runtime-token-2222", False),
    # The project's own variables stay: its endpoints.yml may read them, and rasa fails
    # on a missing one. What rasa prints of them is still redacted.
    ("DB_PASSWORD", "db-secret-3333", "redacted"),
    ("CI_TOOLKIT_TRAIN_FORCE", "true", True),  # a switch, not a secret
    ("LANG", "C.UTF-8", True),
])
def test_rasa_gets_no_secret_of_the_toolkit(
    tmp_path: Path, name: str, value: str, passed: bool | str,
) -> None:
    from ci_toolkit.rasa.runner import rasa_environment

    env = rasa_environment({"PATH": "/usr/bin:/bin", name: value}, rasa_cache=None)
    done = proc.run([sys.executable, "-c", ECHO_ENV, name], label="rasa",
                    console=proc.Console(io.StringIO()), env=env)
    expected = {True: f"{name}={value}", False: f"{name}=<unset>",
                "redacted": f"{name}=***"}[passed]
    assert expected in done.stdout
