"""Why rasa failed, in rasa's own words.

Rasa reports an expected failure (a RasaException) as one red line on stdout,
``<ClassName>: <message>``, whose message may go on for several lines: a YAML error with
the places it points at, a schema error with the list that follows "Here are the errors
found during validation". Anything else ends in a Python traceback on stderr whose last
line names the exception with its module, e.g.
``rasa.engine.exceptions.GraphSchemaValidationException: …``. Both are turned into one
line that keeps every file and line they name. Fixtures: tests/fixtures/rasa/failure-*.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ci_toolkit.errors import ToolkitError
from ci_toolkit.proc import Completed

# An exception name as rasa prints it (bare class name) or as a traceback ends (dotted).
_KIND = (r"(?:[a-z_][A-Za-z0-9_]*\.)*[A-Z][A-Za-z0-9_]*"
         r"(?:Exception|Error|Domain|Rule|Config|Story|NotFound|Exit|Interrupt)")
_EXCEPTION_LINE = re.compile(rf"^(?P<kind>{_KIND}): ?(?P<message>.*)$")
# Where a YAML error points: ruamel's `in "<file>", line N, column M:` and rasa's schema
# validation's `in <file>:N:`; both are followed by more deeply indented lines (an echo
# of the source line and a caret, or the problem found there).
_MARK = re.compile(r'^in "(?P<file>[^"]+)", line (?P<line>\d+)(?:, column \d+)?:?$')
_SCHEMA_MARK = re.compile(r"^in (?P<file>\S+?):(?P<line>\d+):$")
_CARET = re.compile(r"^\^ \(line: \d+\)$")
_NOISE = ("You can use https://yamlchecker.com/",)
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")
# ruamel quotes whole values of a duplicate key, which can be every intent of a domain.
_DUPLICATE_VALUES = re.compile(r'(found duplicate key "[^"]*") with value ".*$')
MAX_REASON = 600


@dataclass(frozen=True)
class RasaFailure:
    kind: str  # the exception name as rasa printed it
    message: str  # one line, every place it names kept
    file: str | None = None  # the last file and line the message points at
    line: int | None = None

    def __str__(self) -> str:
        text = f"{self.kind}: {self.message}" if self.message else self.kind
        return text if len(text) <= MAX_REASON else text[:MAX_REASON - 1] + "…"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _relative(file: str, root: Path | None) -> str:
    if root is None:
        return file
    try:
        return Path(file).relative_to(root).as_posix()
    except ValueError:
        try:
            return Path(file).resolve().relative_to(root.resolve()).as_posix()
        except (ValueError, OSError):
            return file


class _Condenser:
    """Folds the lines of one error message into one line of pieces."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.pieces: list[str] = []
        self.file: str | None = None
        self.line: int | None = None
        self._skip_deeper_than: int | None = None
        self._prefix: str | None = None

    def _place(self, match: re.Match[str]) -> str:
        self.file, self.line = _relative(match["file"], self.root), int(match["line"])
        return f"{self.file}:{self.line}"

    def add(self, raw: str) -> None:
        text = raw.strip()
        if not text or text.startswith(_NOISE) or _CARET.match(text):
            return
        if self._skip_deeper_than is not None and _indent(raw) > self._skip_deeper_than:
            return  # ruamel's echo of the source line under a place
        self._skip_deeper_than = None
        if mark := _MARK.match(text):
            # ruamel: "<context or problem>\n  in <place>"; the place belongs to the piece
            # before it. A context piece ("while constructing a mapping") only says where
            # the enclosing block starts, so it is dropped with its place.
            place = self._place(mark)
            if self.pieces and self.pieces[-1].startswith("while "):
                self.pieces.pop()
            elif self.pieces:
                self.pieces[-1] += f" ({place})"
            self._skip_deeper_than = _indent(raw)
            return
        if mark := _SCHEMA_MARK.match(text):
            self._prefix = self._place(mark)  # the problem follows on the next line
            return
        if self._prefix:
            text, self._prefix = f"{self._prefix}: {text}", None
        self.pieces.append(_DUPLICATE_VALUES.sub(r"\1", text))


def _join(pieces: list[str]) -> str:
    """Pieces as one line: after a sentence or a colon a space, else a semicolon."""
    text = ""
    for piece in pieces:
        text += ("" if not text else " " if text.endswith((":", ".")) else "; ") + piece
    return text


def condense(kind: str, lines: list[str], *, root: Path | None = None) -> RasaFailure:
    """One RasaFailure from the message lines that follow ``<kind>: `` (first line first)."""
    condenser = _Condenser(root)
    head, *rest = lines or [""]
    # ruamel's first line ends with its context: "Failed to read 'x'. while constructing…"
    head, _, context = head.partition(" while ")
    condenser.add(head)
    if context:
        condenser.pieces.append(f"while {context}")
    for line in rest:
        condenser.add(line)
    message = _join(condenser.pieces)
    if root is not None:
        message = message.replace(f"{root}/", "")
    return RasaFailure(kind=kind, message=message, file=condenser.file, line=condenser.line)


def _blocks(lines: list[str]) -> Iterator[tuple[str, list[str]]]:
    """Each exception line with the lines of its message (up to the next exception line
    or log line)."""
    current: tuple[str, list[str]] | None = None
    for line in lines:
        match = _EXCEPTION_LINE.match(line.strip()) if not line.startswith(" ") else None
        if match:
            if current:
                yield current
            current = (match["kind"], [match["message"]])
        elif current and _TIMESTAMP.match(line):
            yield current
            current = None
        elif current:
            current[1].append(line)
    if current:
        yield current


def printed_errors(stdout: str, *, root: Path | None = None) -> list[RasaFailure]:
    """Every RasaException rasa printed on stdout (usually one, the last thing it said)."""
    return [condense(kind, lines, root=root) for kind, lines in _blocks(stdout.splitlines())]


def traceback_error(stderr: str, *, root: Path | None = None) -> RasaFailure | None:
    """The exception that ended the last traceback on stderr, with its dotted name."""
    lines = stderr.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent")]
    if not starts:
        return None
    tail = lines[starts[-1] + 1:]
    for index, line in enumerate(tail):
        if not line.startswith(" ") and (match := _EXCEPTION_LINE.match(line)):
            following = []
            for more in tail[index + 1:]:
                if _TIMESTAMP.match(more):
                    break
                following.append(more)
            return condense(match["kind"], [match["message"], *following], root=root)
    return None


def rasa_failure(stdout: str, stderr: str, *, root: Path | None = None) -> RasaFailure | None:
    """What rasa said when it gave up: its printed error, else its traceback's last line."""
    printed = printed_errors(stdout, root=root)
    return printed[-1] if printed else traceback_error(stderr, root=root)


def require_output(done: Completed, expected: Path, *, what: str, root: Path) -> None:
    """Raise ToolkitError unless rasa wrote ``expected``, with rasa's own words as the reason:
    rasa exits 0 on several failures, so its files decide (docs/architecture.md)."""
    if expected.is_file():
        return
    failure = rasa_failure(done.stdout, done.stderr, root=root)
    reason = str(failure) if failure else f"rasa exited with code {done.returncode}"
    raise ToolkitError(f"{what} wrote no {expected.name}: {reason}. The full output is in "
                       f"{done.log_file}.")
