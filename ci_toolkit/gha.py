"""GitHub Actions workflow commands and environment files.

https://docs.github.com/en/actions/reference/workflow-commands-for-github-actions
Everything is a no-op outside Actions except where a caller asks for the text itself.

Secrets never reach what ActionsRuntime writes: every annotation, group title, step output
and job summary line goes through a Redactor (ci_toolkit/redaction.py) of the run's secrets,
the values of the environment variables named like a secret, and everything masked.
Standard library only: the action helper runs this before anything is installed.
"""

from __future__ import annotations

import os
import re
import sys
import uuid
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ci_toolkit.errors import ToolkitError

# Standard library only, like this module; the job summary is Markdown.
from ci_toolkit.escape import text as markdown_text
from ci_toolkit.redaction import Redactor

# Secrets the toolkit reads (GitHub, the registry, Rasa X, the Rasa server, a model server).
KNOWN_SECRETS = (
    "GITHUB_TOKEN", "CI_TOOLKIT_REGISTRY_PASSWORD", "CI_TOOLKIT_DOCKER_REGISTRY_PASSWORD",
    "CI_TOOLKIT_RASAX_TOKEN", "CI_TOOLKIT_RASAX_PASSWORD", "CI_TOOLKIT_RASA_TOKEN",
    "CI_TOOLKIT_MODEL_SERVER_TOKEN",
)
# Any other variable named like a secret is treated as one too (a new option, the runner's
# own ACTIONS_RUNTIME_TOKEN) ...
_SECRET_NAME = re.compile(r"(?i)TOKEN|PASSWORD|PASSWD|SECRET|API_?KEY|PRIVATE_KEY")
# ... unless its value is a switch or a number: redacting "true" or "1" everywhere would
# corrupt every JSON output and say nothing about a secret.
_NOT_A_SECRET = re.compile(r"(?i)true|false|yes|no|on|off|\d{1,6}")


def is_secret(name: str, value: str | None) -> bool:
    """Whether the variable ``name=value`` carries a secret (see KNOWN_SECRETS above)."""
    if not value or not value.strip():
        return False
    return name in KNOWN_SECRETS or bool(_SECRET_NAME.search(name)
                                         and not _NOT_A_SECRET.fullmatch(value.strip()))


def secret_values(environ: Mapping[str, str]) -> list[str]:
    """The values of the environment's secrets, for a Redactor."""
    return [value for name, value in environ.items() if is_secret(name, value)]


# Credentials of the toolkit and of the runner, which rasa never needs.
_TOOLKIT_CREDENTIAL = re.compile(r"^(?:GITHUB_TOKEN|ACTIONS_\w*TOKEN\w*|CI_TOOLKIT_\w+)$")


def without_secrets(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` without the toolkit's and the runner's credentials: the environment of a
    child (rasa) that needs none of them and may print its environment. The project's own
    variables stay, secret-looking or not: its endpoints.yml and credentials.yml may read
    them (``${DB_PASSWORD}``), and rasa fails when one is missing. Whatever a child prints
    is redacted anyway (proc.py)."""
    return {name: value for name, value in environ.items()
            if not (is_secret(name, value) and _TOOLKIT_CREDENTIAL.match(name))}


def mask_environment_secrets(actions: ActionsRuntime) -> None:
    """In Actions, ``::add-mask::`` every secret of the environment once, so that the runner
    hides it in whatever a child prints later, too."""
    for secret in dict.fromkeys(secret_values(actions.environ)):
        actions.add_mask(secret)


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


class EnvFileError(ToolkitError):
    """$GITHUB_OUTPUT or $GITHUB_STEP_SUMMARY cannot be written."""


def _env_file_problem(env_name: str, target: str, error: OSError) -> str:
    path = Path(target)
    if path.is_dir():
        why = "it is a directory"
    elif not path.parent.is_dir():
        why = f"the directory {path.parent} does not exist"
    else:
        why = error.strerror or type(error).__name__
    return (f"cannot write to {env_name}={target}: {why}. The Actions runner sets {env_name} "
            "to a file it created; outside Actions unset it, or point it at a file in an "
            "existing directory.")


# The values already masked, per stream (sys.stdout in a real run).
_MASKED: weakref.WeakKeyDictionary[TextIO, set[str]] = weakref.WeakKeyDictionary()


@dataclass
class ActionsRuntime:
    """The Actions side of a run: workflow commands on stdout and the env files."""

    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    stream: TextIO = field(default_factory=lambda: sys.stdout)
    # Built from ``environ`` unless given; add_mask adds to it.
    redact: Redactor = field(default_factory=Redactor)

    def __post_init__(self) -> None:
        for secret in secret_values(self.environ):
            self.redact.add(secret)

    @property
    def active(self) -> bool:
        return self.environ.get("GITHUB_ACTIONS") == "true"

    def command(self, line: str) -> None:
        """Write one workflow command as it is; callers redact (only a mask carries a secret)."""
        if self.active:
            self.stream.write(line + "\n")
            self.stream.flush()

    def annotate(self, level: str, message: str, *, file: str | None = None,
                 line: int | None = None, title: str | None = None) -> None:
        redact = self.redact
        self.command(format_annotation(level, redact(message), file=redact(file) if file else None,
                                       line=line, title=redact(title) if title else None))

    def warn(self, message: str, *, title: str | None = None) -> None:
        """A warning on stderr and, in Actions, as an annotation."""
        print(f"warning: {self.redact(message)}", file=sys.stderr, flush=True)
        self.annotate("warning", message, title=title)

    def add_mask(self, secret: str | None) -> None:
        self.redact.add(secret)
        # Once per value and stream: cli.main masks the environment's secrets, and a command
        # that reads one of them masks it again.
        masked = _MASKED.setdefault(self.stream, set())
        # Mask every line separately: the runner matches masks line by line.
        for part in (secret or "").splitlines():
            if part.strip() and part not in masked:
                if self.active:
                    masked.add(part)
                self.command(f"::add-mask::{escape_data(part)}")

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        start, end = group_lines(self.redact(title), [])
        self.command(start)
        try:
            yield
        finally:
            self.command(end)

    def _append(self, env_name: str, text: str) -> bool:
        target = self.environ.get(env_name)
        if not target:
            return False
        try:
            with Path(target).open("a", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as error:
            raise EnvFileError(_env_file_problem(env_name, target, error)) from None
        return True

    def set_output(self, name: str, value: str) -> bool:
        """Append one output; False when GITHUB_OUTPUT is not set. Later steps depend on the
        outputs, so a file that cannot be written is an error (EnvFileError, exit 1)."""
        return self._append("GITHUB_OUTPUT", format_output(name, self.redact(value)))

    def set_outputs(self, values: Mapping[str, str]) -> bool:
        return all(self.set_output(name, value) for name, value in values.items())

    def write_step_summary(self, markdown: str) -> bool:
        """Append to the job summary; False when GITHUB_STEP_SUMMARY is not set. Raises
        EnvFileError when it cannot be written."""
        return self._append("GITHUB_STEP_SUMMARY", self.redact(markdown).rstrip("\n") + "\n\n")

    def append_step_summary(self, markdown: str) -> bool:
        """Append to the job summary; False when GITHUB_STEP_SUMMARY is not set or cannot be
        written (then a warning says why: the summary is only a view of the results)."""
        try:
            return self.write_step_summary(markdown)
        except EnvFileError as error:
            self.warn(f"the job summary was not written: {error.message}", title="ci-toolkit")
            return False

    def check_output_file(self) -> None:
        """Before a command starts: later steps depend on the outputs, so a $GITHUB_OUTPUT
        that cannot be written is an error now (EnvFileError), not after a long run."""
        self._append("GITHUB_OUTPUT", "")


def report_error(error: ToolkitError, actions: ActionsRuntime, *,
                 stderr: TextIO | None = None) -> int:
    """Say what went wrong: on stderr, and in Actions also as an ``::error::`` annotation
    (with file and line when known) and a line in the job summary. Returns the exit code.

    The one reporter of both entry points: the CLI and the action helper. The message is
    redacted everywhere, and escaped in the job summary: it may quote file names or rasa's
    output, which must not render as Markdown there.
    """
    message = actions.redact(error.message)
    print(f"error: {message}", file=stderr or sys.stderr, flush=True)
    if actions.active:
        actions.annotate("error", message, file=error.file, line=error.line)
        # The step output `error`: a later step (the PR comment of a run that stopped before
        # its report) can say exactly why.
        for write in (lambda: actions.write_step_summary(
                          f"**ci-toolkit error:** {markdown_text(message)}"),
                      lambda: actions.set_output("error", message)):
            try:
                write()
            except EnvFileError:
                pass  # the message is on stderr and in the annotation already
    return error.exit_code
