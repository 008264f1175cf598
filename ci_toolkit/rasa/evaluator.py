"""The model evaluator: one rasa interpreter that runs rasa commands one after the other: a
pipeline run's validation, training and `rasa test` commands (its cross-validation, which may
run beside training, gets one of its own), or a cross-validation or comparison shard's
`rasa train nlu` and `rasa test nlu` commands. So rasa and TensorFlow are imported once, and
the model both test stages need is loaded once, for evaluation only (evaluator_worker.py
says how).

Loading a model is most of what `rasa test core` and `rasa test nlu` do on a small test set:
rasa builds every TensorFlow graph with a one-batch fit before it loads the weights. Run as
two processes, each pays for it. The worker (evaluator_worker.py, run by rasa's own
interpreter) runs each command through rasa's own entry point, so the files it writes and
the lines it prints are those of the separate commands.

When rasa's interpreter cannot be found (the `rasa` executable is not a Python script, or
rasa is not installed in that interpreter's own environment) or the worker does not start,
each command runs as its own process, as before, and the console says why once.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from ci_toolkit import interrupts, proc
from ci_toolkit.errors import Interrupted, ToolkitError
from ci_toolkit.rasa.runner import RasaRuntime

WORKER = Path(__file__).with_name("evaluator_worker.py")
STARTUP_TIMEOUT_S = 300.0  # importing rasa and TensorFlow takes ~10 s, more on a busy runner
_MAX_ANSWER_BYTES = 4096


def rasa_interpreter(executable: str) -> str | None:
    """The Python interpreter named by the `#!` line of the rasa executable, or None when
    the executable is not a Python script (a wrapper, a binary)."""
    try:
        with open(executable, "rb") as script:
            first = script.readline(512)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode("utf-8", "replace").split()
    if words and Path(words[0]).name == "env":  # #!/usr/bin/env python3
        words = words[1:]
        found = shutil.which(words[0]) if words else None
        words = [found] if found else []
    if not words or "python" not in Path(words[0]).name:
        return None
    return words[0] if os.access(words[0], os.X_OK) else None


def installs_rasa(python: str) -> bool:
    """Whether rasa is installed in the environment of ``python``: the worker imports it.

    Read from the environment's files (a virtualenv's bin/python, as scripts/setup-rasa.sh
    and the actions make it) instead of by starting the interpreter."""
    root = Path(python).parent.parent
    return any(root.glob("lib/python3*/*-packages/rasa-[0-9]*.dist-info"))


class ModelEvaluator:
    """Runs rasa commands in one long-lived rasa interpreter (see the module's
    docstring); ``run`` has the signature and the result of ``RasaRuntime.run``.

    Thread-safe: commands from stages that run at the same time are served one after the
    other, which is what loading the model once means."""

    def __init__(self, runtime: RasaRuntime, *, log_file: Path) -> None:
        self._runtime = runtime
        self._log_file = log_file
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        self._channel: socket.socket | None = None
        self._unavailable: str | None = None

    def run(self, argv: Sequence[str], *, label: str, log_file: Path,
            extra_env: Mapping[str, str] | None = None) -> proc.Completed:
        with self._lock:
            # The first command's time includes the worker's start: importing rasa, which a
            # command of its own would have spent too.
            started = time.monotonic()
            if self._channel is None and self._unavailable is None:
                self._unavailable = self._start()
                if self._unavailable:
                    self._runtime.console.child_line(
                        label, time.monotonic(),
                        f"The model evaluator did not start ({self._unavailable}); each rasa "
                        "command runs in its own process.")
            if self._unavailable:
                return self._runtime.run(argv, label=label, log_file=log_file,
                                         extra_env=extra_env)
            return self._request(argv, label=label, log_file=log_file,
                                 extra_env=dict(extra_env or {}), started=started)

    def close(self) -> None:
        """End the worker (it exits when its socket closes); idempotent."""
        with self._lock:
            channel, child = self._channel, self._child
            self._channel = self._child = None
        if channel is not None:
            channel.close()
        if child is not None:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                interrupts.stop_group(child)
            finally:
                interrupts.forget(child)

    def __enter__(self) -> ModelEvaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> str | None:
        """Start the worker and wait until rasa is imported; why not, or None."""
        python = rasa_interpreter(self._runtime.executable)
        if python is None:
            return f"{self._runtime.executable} is not a Python script"
        if not installs_rasa(python):
            return f"rasa is not installed in the environment of {python}"
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._log_file.parent.mkdir(parents=True, exist_ok=True)
        with theirs, self._log_file.open("wb") as log:
            child = interrupts.start(lambda: subprocess.Popen(
                [python, str(WORKER), str(theirs.fileno())], pass_fds=(theirs.fileno(),),
                cwd=self._runtime.project.root, env=dict(self._runtime.env),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True))
        self._child, self._channel = child, ours
        ours.settimeout(STARTUP_TIMEOUT_S)
        try:
            answer = ours.recv(_MAX_ANSWER_BYTES)
        except OSError as error:
            answer = b""
            self._runtime.console.line(f"model evaluator: {error}")
        finally:
            ours.settimeout(None)
        if answer:
            return None
        self._discard()
        return f"its log: {self._log_file}"

    def _discard(self) -> None:
        """Stop a worker that failed (or a command ran too long) at once; the next command
        starts a new one."""
        channel, child = self._channel, self._child
        self._channel = self._child = None
        if channel is not None:
            channel.close()
        if child is not None:
            interrupts.stop_group(child, grace_s=0)
            interrupts.forget(child)

    def _request(self, argv: Sequence[str], *, label: str, log_file: Path,
                 extra_env: dict[str, str], started: float) -> proc.Completed:
        assert self._channel is not None and self._child is not None
        channel, child = self._channel, self._child
        argv = tuple(str(a) for a in argv)
        output = proc.Output(label, self._runtime.console, log_file,
                             proc.environment_redactor({**self._runtime.env, **extra_env}))
        interrupts.check()
        log = proc.open_log(log_file, output.announce((self._runtime.executable, *argv)))
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        try:
            try:
                request = {"argv": list(argv), "env": extra_env}
                socket.send_fds(channel, [json.dumps(request).encode()], [stdout_w, stderr_w])
            finally:  # the worker holds its own copies until the command ends (then: EOF)
                os.close(stdout_w)
                os.close(stderr_w)
        except OSError as error:
            os.close(stdout_r)
            os.close(stderr_r)
            if log is not None:
                log.close()
            self._discard()
            raise ToolkitError(f"{label}: the model evaluator stopped ({error}); see "
                               f"{self._log_file}.") from error
        streams = (_text(stdout_r), _text(stderr_r))
        return proc.follow(("rasa", *argv), streams, lambda: self._answer(channel, child, label),
                           output=output, log=log, started=started)

    def _answer(self, channel: socket.socket, child: subprocess.Popen[bytes],
                label: str) -> int:
        """The command's exit code; an interrupt stops the worker with it."""
        timeout_s = self._runtime.timeout_s
        channel.settimeout(timeout_s)
        try:
            answer = channel.recv(_MAX_ANSWER_BYTES)
        except TimeoutError as error:
            self._discard()
            raise ToolkitError(f"{label}: rasa ran longer than {timeout_s:.0f} s and was "
                               "stopped.") from error
        except (KeyboardInterrupt, Interrupted):
            self._discard()
            raise
        finally:
            channel.settimeout(None)
        if not answer:  # the worker died mid-command (killed, out of memory)
            code = child.wait()
            self._discard()
            return code if code != 0 else 1
        return int(json.loads(answer)["returncode"])


def _text(fd: int) -> TextIO:
    return open(fd, encoding="utf-8", errors="replace", buffering=1)
