"""The model evaluator's protocol, with a stand-in `rasa` package that the worker imports
(real rasa is tested in tests/integration/test_model_evaluator.py): each command's output,
exit code and log are those of a separate process; a model file is loaded once; commands from
two threads are served one after the other; a worker that dies or never starts costs the
command nothing but the saved load."""

from __future__ import annotations

import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ci_toolkit.pipeline.project import RasaProject
from ci_toolkit.proc import Console
from ci_toolkit.rasa.evaluator import ModelEvaluator, rasa_interpreter
from ci_toolkit.rasa.runner import RasaRuntime

# rasa's entry point and Agent.load, as far as the worker uses them.
STAND_IN = {
    "rasa/__init__.py": "",
    "rasa/core/__init__.py": "",
    "rasa/core/agent.py": '''
import sys

class Agent:
    @classmethod
    def load(cls, model_path=None, **endpoints):
        print(f"Loading model {model_path}", file=sys.stderr)
        return object()
''',
    "rasa/__main__.py": '''
import os, sys, warnings
from rasa.core.agent import Agent

def main():
    command, *args = sys.argv[1:]
    if command == "load":
        Agent.load(model_path=args[0])
        print(f"tested {args[0]}")
    elif command == "warn":
        warnings.warn("a user warning")  # shown once per process
    elif command == "exit":
        sys.exit(int(args[0]))
    elif command == "raise":
        raise RuntimeError("a component crashed")
    elif command == "die":
        os._exit(9)
    elif command == "env":
        print(os.environ.get(args[0], "<unset>"))
    elif command == "leave":  # work a process finishes on its way out
        import atexit, threading, time
        def write(name):
            with open(os.path.join(args[0], name), "w") as done:
                done.write("done")
        atexit.register(write, "exit handler")
        threading.Thread(target=lambda: (time.sleep(0.5), write("thread"))).start()
    elif command == "log":  # what rasa's entry point and colored logging do, in that order
        import logging
        class Repeated(logging.Filter):
            last = None
            def filter(self, record):
                seen, self.last = self.last, record.getMessage()
                return seen != self.last
        root = logging.getLogger()
        for handler in root.handlers:
            handler.addFilter(Repeated())
        print(f"state: {len(root.handlers)} {os.environ.get('LOG_LEVEL')} "
              f"{sys.path.count('/fresh')}")
        os.environ["LOG_LEVEL"] = "INFO"
        sys.path.insert(1, "/fresh")
        if not root.handlers:  # colored logging keeps the handler it finds
            root.addHandler(logging.StreamHandler(sys.stdout))
        for _ in range(3):
            logging.getLogger("rasa").error("Failed to connect")
''',
}


def _stand_in_rasa(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """An environment laid out as a virtualenv with rasa installed: bin/python (this
    interpreter), bin/rasa, and the stand-in package with its dist-info in site-packages."""
    site = tmp_path / "env" / "lib" / "python3.10" / "site-packages"
    for name, text in STAND_IN.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text)
    (site / "rasa-3.6.21.dist-info").mkdir()
    python = tmp_path / "env" / "bin" / "python"
    python.parent.mkdir()
    python.symlink_to(sys.executable)
    executable = python.with_name("rasa")
    executable.write_text(f"#!{python}\nfrom rasa.__main__ import main\nmain()\n")
    executable.chmod(0o755)
    return executable, {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}


def _evaluator(tmp_path: Path, executable: Path, env: dict[str, str]) -> ModelEvaluator:
    project = RasaProject(root=tmp_path, config=tmp_path / "config.yml",
                          domain=tmp_path / "domain.yml", data=(), tests=None, actions=None,
                          credentials=None, endpoints=None)
    runtime = RasaRuntime(executable=str(executable), project=project, env=env,
                          console=Console(quiet=True), timeout_s=60)
    return ModelEvaluator(runtime, log_file=tmp_path / "logs" / "evaluator.log")


@pytest.fixture
def evaluator(tmp_path: Path) -> Iterator[ModelEvaluator]:
    executable, env = _stand_in_rasa(tmp_path)
    with _evaluator(tmp_path, executable, env) as running:
        yield running


def test_a_model_is_loaded_once_and_each_command_keeps_its_own_output(
        evaluator: ModelEvaluator, tmp_path: Path) -> None:
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"model")
    first = evaluator.run(["load", str(model)], label="test core", log_file=tmp_path / "a.log")
    second = evaluator.run(["load", str(model)], label="test nlu", log_file=tmp_path / "b.log")
    assert (first.returncode, second.returncode) == (0, 0)
    assert first.stdout == second.stdout == f"tested {model}\n"
    assert first.stderr == f"Loading model {model}\n" and second.stderr == ""
    log = (tmp_path / "a.log").read_text()
    assert log.startswith("$ ") and log.endswith("# exit code 0\n")
    assert "tested" in log and "tested" not in (tmp_path / "b.log").read_text().split("\n", 1)[0]

    model.write_bytes(b"another model")  # a changed file is a different model
    third = evaluator.run(["load", str(model)], label="test", log_file=tmp_path / "c.log")
    assert third.stderr == f"Loading model {model}\n"


def test_the_worker_ends_as_a_process_would_after_its_last_command(
        evaluator: ModelEvaluator, tmp_path: Path) -> None:
    # It skips the interpreter's teardown (seconds with TensorFlow), not what a command
    # left to finish: a running thread and an exit handler.
    done = evaluator.run(["leave", str(tmp_path)], label="test", log_file=tmp_path / "x.log")
    assert done.returncode == 0
    worker = evaluator._child
    assert worker is not None
    evaluator.close()
    assert worker.returncode == 0
    assert (tmp_path / "thread").read_text() == (tmp_path / "exit handler").read_text() == "done"


@pytest.mark.parametrize(("argv", "code", "stderr_has"), [
    (["exit", "0"], 0, ""),
    (["exit", "2"], 2, ""),
    (["raise"], 1, "RuntimeError: a component crashed"),
])
def test_exit_codes_are_those_of_a_separate_process(evaluator: ModelEvaluator, tmp_path: Path,
                                                    argv: list[str], code: int,
                                                    stderr_has: str) -> None:
    done = evaluator.run(argv, label="test", log_file=tmp_path / "x.log")
    assert done.returncode == code
    assert stderr_has in done.stderr
    # The worker survives a failed command and serves the next one.
    assert evaluator.run(["exit", "0"], label="test", log_file=tmp_path / "y.log").returncode == 0


def test_a_commands_own_environment_variables_are_set_for_it_alone(
        evaluator: ModelEvaluator, tmp_path: Path) -> None:
    """A shard's commands run with rasa's component cache off (RASA_MAX_CACHE_SIZE=0), in
    an interpreter started without it."""
    first = evaluator.run(["env", "RASA_MAX_CACHE_SIZE"], label="t", log_file=tmp_path / "1.log",
                          extra_env={"RASA_MAX_CACHE_SIZE": "0"})
    second = evaluator.run(["env", "RASA_MAX_CACHE_SIZE"], label="t", log_file=tmp_path / "2.log")
    assert (first.stdout, second.stdout) == ("0\n", "<unset>\n")


def test_each_command_starts_with_the_logging_environment_and_path_of_a_fresh_process(
        evaluator: ModelEvaluator, tmp_path: Path) -> None:
    """rasa adds a filter of repeated lines to the root handlers it finds: in a fresh process
    none; a previous command's handler must not be there to get it (it would drop identical
    errors, which the toolkit counts)."""
    outputs = [evaluator.run(["log"], label="t", log_file=tmp_path / f"{i}.log").stdout
               for i in range(2)]
    assert outputs == ["state: 0 None 0\n" + "Failed to connect\n" * 3] * 2


def test_each_command_shows_its_warnings_as_its_own_process_would(
        evaluator: ModelEvaluator, tmp_path: Path) -> None:
    outputs = [evaluator.run(["warn"], label="t", log_file=tmp_path / f"{i}.log").stderr
               for i in range(2)]
    assert all("a user warning" in stderr for stderr in outputs), outputs


def test_commands_from_two_threads_are_served_one_after_the_other(
        evaluator: ModelEvaluator, tmp_path: Path) -> None:
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"model")
    results = {}

    def stage(name: str) -> None:
        results[name] = evaluator.run(["load", str(model)], label=name,
                                      log_file=tmp_path / f"{name}.log")

    threads = [threading.Thread(target=stage, args=(name,)) for name in ("core", "nlu")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.stderr for r in results.values()) == ["", f"Loading model {model}\n"]
    assert all(r.stdout == f"tested {model}\n" for r in results.values())


def test_a_worker_that_dies_fails_that_command_and_the_next_gets_a_new_worker(
        tmp_path: Path) -> None:
    executable, env = _stand_in_rasa(tmp_path)
    with _evaluator(tmp_path, executable, env) as evaluator:
        died = evaluator.run(["die"], label="test", log_file=tmp_path / "a.log")
        assert died.returncode == 9
        after = evaluator.run(["exit", "3"], label="test", log_file=tmp_path / "b.log")
        assert after.returncode == 3


OWN_PROCESS = "import sys\nprint('own process', sys.argv[1:])\n"


def test_without_rasa_in_its_environment_each_command_runs_in_its_own_process(
        tmp_path: Path) -> None:
    executable, env = _stand_in_rasa(tmp_path)
    shutil.rmtree(next((tmp_path / "env").rglob("rasa-3.6.21.dist-info")))
    executable.write_text(executable.read_text().split("\n")[0] + "\n" + OWN_PROCESS)
    with _evaluator(tmp_path, executable, env) as evaluator:
        done = evaluator.run(["test", "core"], label="test", log_file=tmp_path / "a.log")
    assert done.returncode == 0 and done.stdout == "own process ['test', 'core']\n"
    assert not (tmp_path / "logs" / "evaluator.log").exists()  # no worker was started


def test_a_worker_that_cannot_import_rasa_leaves_each_command_its_own_process(
        tmp_path: Path) -> None:
    executable, env = _stand_in_rasa(tmp_path)
    env["PYTHONPATH"] = str(tmp_path / "nowhere")  # installed, but the worker cannot import it
    executable.write_text(executable.read_text().split("\n")[0] + "\n" + OWN_PROCESS)
    with _evaluator(tmp_path, executable, env) as evaluator:
        done = evaluator.run(["test", "core"], label="test", log_file=tmp_path / "a.log")
    assert done.returncode == 0 and done.stdout == "own process ['test', 'core']\n"
    assert "rasa cannot be imported" in (tmp_path / "logs" / "evaluator.log").read_text()


@pytest.mark.parametrize(("first_line", "expected"), [
    (f"#!{sys.executable}\n", sys.executable),
    (f"#!{sys.executable} -E\n", sys.executable),
    ("#!/usr/bin/env python3\n", "python3"),
    ("#!/bin/sh\n", None),
    ("\x7fELF", None),
    ("#!/nowhere/python3\n", None),
])
def test_the_interpreter_is_read_from_the_rasa_scripts_first_line(
        tmp_path: Path, first_line: str, expected: str | None) -> None:
    script = tmp_path / "rasa"
    script.write_text(first_line + "print()\n")
    found = rasa_interpreter(str(script))
    if expected == "python3":
        assert found is not None and Path(found).name == "python3"
    else:
        assert found == expected
    assert rasa_interpreter(str(tmp_path / "missing")) is None
