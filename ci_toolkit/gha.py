"""GitHub Actions workflow commands and environment files.

https://docs.github.com/en/actions/reference/workflow-commands-for-github-actions
Everything is a no-op outside Actions except where a caller asks for the text itself.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ci_toolkit.errors import ToolkitError


def escape_data(value: str) -> str:
    # The runner decodes exactly these three in a command's message.
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    # Properties (file=, title=) additionally end at ':' and ','.
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def format_annotation(
    level: str,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    title: str | None = None,
) -> str:
    """``::error file=F,line=L,title=T::message`` with everything escaped."""
    if level not in ("error", "warning", "notice"):
        raise ValueError(f"unknown annotation level {level!r}")
    props = []
    if file:
        props.append(f"file={escape_property(file)}")
    if line is not None:
        props.append(f"line={int(line)}")
    if title:
        props.append(f"title={escape_property(title)}")
    head = f"::{level} {','.join(props)}" if props else f"::{level}"
    return f"{head}::{escape_data(message)}"


def group_lines(title: str, lines: Sequence[str]) -> list[str]:
    """A collapsible log group as lines, for writing in one piece."""
    return [f"::group::{escape_data(title)}", *lines, "::endgroup::"]


def format_output(name: str, value: str) -> str:
    """One entry of $GITHUB_OUTPUT; multi-line values use a random heredoc delimiter."""
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    # The delimiter must not occur in the value; a fresh UUID makes that certain in practice.
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


@dataclass
class ActionsRuntime:
    """The Actions side of a run: workflow commands on stdout and the env files."""

    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    stream: TextIO = field(default_factory=lambda: sys.stdout)

    @property
    def active(self) -> bool:
        return self.environ.get("GITHUB_ACTIONS") == "true"

    def command(self, line: str) -> None:
        if self.active:
            self.stream.write(line + "\n")
            self.stream.flush()

    def annotate(self, level: str, message: str, **where: object) -> None:
        self.command(format_annotation(level, message, **where))  # type: ignore[arg-type]

    def add_mask(self, secret: str | None) -> None:
        # Mask every line separately: the runner matches masks line by line.
        for part in (secret or "").splitlines():
            if part.strip():
                self.command(f"::add-mask::{escape_data(part)}")

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        start, end = group_lines(title, [])
        self.command(start)
        try:
            yield
        finally:
            self.command(end)

    def _append(self, env_name: str, text: str) -> bool:
        target = self.environ.get(env_name)
        if not target:
            return False
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(text)
        return True

    def set_output(self, name: str, value: str) -> bool:
        return self._append("GITHUB_OUTPUT", format_output(name, value))

    def set_outputs(self, values: Mapping[str, str]) -> bool:
        return all(self.set_output(name, value) for name, value in values.items())

    def append_step_summary(self, markdown: str) -> bool:
        return self._append("GITHUB_STEP_SUMMARY", markdown.rstrip("\n") + "\n\n")


def report_error(error: ToolkitError, actions: ActionsRuntime, *,
                 stderr: TextIO | None = None) -> int:
    """Say what went wrong: on stderr, and in Actions also as an ``::error::`` annotation
    (with file and line when known) and a line in the job summary. Returns the exit code.

    The one reporter of both entry points: the CLI and the action helper.
    """
    print(f"error: {error.message}", file=stderr or sys.stderr, flush=True)
    if actions.active:
        actions.annotate("error", error.message, file=error.file, line=error.line)
        try:
            actions.append_step_summary(f"**ci-toolkit error:** {error.message}")
        except OSError:
            pass  # the message is on stderr and in the annotation already
    return error.exit_code
