"""The model evaluator's worker: runs `rasa test ...` commands one after the other in one
rasa interpreter, so that a model both test stages need is loaded once.

This file runs in rasa's own interpreter (the one whose `rasa` executable the pipeline uses),
never in the toolkit's: it imports the standard library and rasa, nothing of ci_toolkit.
ci_toolkit/rasa/evaluator.py starts it and talks to it.

Each command is rasa's own command line, run by rasa's own entry point (`rasa.__main__.main`),
so its arguments, files and messages are exactly those of the separate CLI command. The one
difference: `Agent.load` of a model file that an earlier command already loaded returns that
agent instead of loading it again (loading builds every TensorFlow graph with a one-batch fit;
on the example it is most of a test command's time).

Protocol, over the SOCK_SEQPACKET socket whose file descriptor is argv[1]:
  request:  {"argv": [...]} with two file descriptors attached (SCM_RIGHTS), the write ends of
            the pipes that become the command's stdout and stderr;
  answer:   {"returncode": N} once the command has ended and both pipes are closed.
The worker ends when the toolkit closes the socket.
"""
from __future__ import annotations

import json
import os
import socket
import sys
import traceback
import warnings
from typing import Any

MAX_REQUEST_BYTES = 1 << 20


def _reuse_loaded_models() -> None:
    """Make `Agent.load(model_path=...)` return the agent already loaded from that file."""
    from rasa.core.agent import Agent

    load = Agent.load.__func__  # type: ignore[attr-defined]
    loaded: dict[tuple[str, int, int], Any] = {}

    def load_once(cls: type, model_path: str | None = None, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or model_path is None:  # a server's load, with endpoints: as is
            return load(cls, model_path, *args, **kwargs)
        stat = os.stat(model_path)
        key = (os.path.realpath(model_path), stat.st_size, stat.st_mtime_ns)
        if key not in loaded:
            loaded.clear()  # one model at a time: each holds hundreds of MB
            loaded[key] = load(cls, model_path=model_path)
        return loaded[key]

    Agent.load = classmethod(load_once)


# The warning filters a fresh interpreter starts with (PYTHONWARNINGS included).
_STARTING_FILTERS = list(warnings.filters)


def _forget_shown_warnings() -> None:
    """rasa shows each UserWarning once per process: each command starts with the filters
    and the (empty) record of shown warnings that its own process would have."""
    warnings.filters[:] = _STARTING_FILTERS
    warnings.onceregistry.clear()  # type: ignore[attr-defined]
    warnings._filters_mutated()  # type: ignore[attr-defined]  # drops modules' registries


def _exit_code(stop: SystemExit) -> int:
    if stop.code is None:
        return 0
    if isinstance(stop.code, int):
        return stop.code
    print(stop.code, file=sys.stderr)
    return 1


def _run_command(argv: list[str], stdout_fd: int, stderr_fd: int) -> int:
    import rasa.__main__

    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    os.dup2(stdout_fd, 1)
    os.dup2(stderr_fd, 2)
    os.close(stdout_fd)
    os.close(stderr_fd)
    sys.argv = ["rasa", *argv]
    _forget_shown_warnings()
    try:
        rasa.__main__.main()
        code = 0
    except SystemExit as stop:
        code = _exit_code(stop)
    except BaseException:  # what the interpreter would print before exiting with 1
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        # Restoring 1 and 2 closes the last write ends: the toolkit reads to the end.
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
    return code


def serve(channel: socket.socket) -> None:
    while True:
        message, fds, _, _ = socket.recv_fds(channel, MAX_REQUEST_BYTES, 2)
        if not message:
            return
        request = json.loads(message)
        code = _run_command(request["argv"], fds[0], fds[1])
        channel.send(json.dumps({"returncode": code}).encode())


def main() -> int:
    channel = socket.socket(fileno=int(sys.argv[1]))
    try:
        import rasa  # noqa: F401  (a clear failure now rather than in the first command)
    except ImportError as error:
        print(f"rasa cannot be imported by {sys.executable}: {error}", file=sys.stderr)
        return 3
    _reuse_loaded_models()
    channel.send(json.dumps({"ready": True}).encode())
    serve(channel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
