"""Compare the rendered files with the disk, then write them (copier's order).

Every file is read and every obstacle found before the first write, so a directory in a
file's place, a file where a directory must go, or a directory that cannot be written stops
scaffold with nothing written. Each file is then written to a temporary file beside it and
renamed into place, so a write that fails all the same (a full disk) leaves no half-written
file, and the error names the files written and those not written. Each file gets one status:

  create     the file did not exist and was written
  identical  the file already holds exactly this content
  conflict   the file differs and was left as it is (the diff is shown)
  skip       the file matched a --skip pattern and was not looked at
  overwrite  the file differed and was replaced, because --force was given (or the user said yes)

With ``dry_run`` nothing is written, but the statuses and diffs are the same.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ci_toolkit.errors import ToolkitError

CREATE, IDENTICAL, CONFLICT = "create", "identical", "conflict"
SKIP, OVERWRITE = "skip", "overwrite"


@dataclass(frozen=True)
class PlannedFile:
    path: Path  # relative to the repository root
    content: bytes
    origin: str  # the template or shipped file it comes from


@dataclass(frozen=True)
class Outcome:
    path: Path
    status: str
    diff: str | None = None


class _Skipped:
    """What is on disk is not looked at: the file matched --skip."""


SKIPPED = _Skipped()
# A planned file with what is on disk there: its bytes, None (no file yet) or SKIPPED.
Surveyed = tuple[PlannedFile, "bytes | _Skipped | None"]
Confirm = Callable[[PlannedFile, str], bool]


def unified_diff(current: bytes, planned: bytes, path: Path) -> str:
    """The change scaffold would make to ``path``, as a unified diff (``-`` is yours)."""
    old = current.decode("utf-8", errors="replace").splitlines(keepends=True)
    new = planned.decode("utf-8", errors="replace").splitlines(keepends=True)
    lines = difflib.unified_diff(old, new, fromfile=f"{path} (yours)",
                                 tofile=f"{path} (scaffold)")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def matches(path: Path, patterns: Sequence[str]) -> bool:
    posix = path.as_posix()
    return any(fnmatch.fnmatch(posix, pattern) or fnmatch.fnmatch(path.name, pattern)
               for pattern in patterns)


def apply(
    files: Sequence[PlannedFile],
    root: Path,
    *,
    dry_run: bool = False,
    force: bool = False,
    skip: Sequence[str] = (),
    confirm_overwrite: Confirm | None = None,
    report: Callable[[Outcome], None] = lambda outcome: None,
) -> list[Outcome]:
    """Write the planned files under ``root``; never replace a differing file unasked.

    ``confirm_overwrite(file, diff)`` is asked about each differing file when given (only
    when a person sits at a terminal); otherwise a differing file is a conflict unless
    ``force`` is set. ToolkitError before the first write when a file cannot be written,
    and after a write that failed all the same, naming what was and was not written.
    """
    survey = survey_targets(files, root, skip=skip, writing=not dry_run,
                            replacing=force or confirm_overwrite is not None)
    outcomes: list[Outcome] = []
    for index, (planned, current) in enumerate(survey):
        try:
            outcome = _settle(planned, current, root, dry_run=dry_run, force=force,
                              confirm_overwrite=confirm_overwrite)
        except OSError as error:
            raise write_failure(planned, error, outcomes, survey[index + 1:]) from error
        report(outcome)
        outcomes.append(outcome)
    return outcomes


def _settle(planned: PlannedFile, current: bytes | _Skipped | None, root: Path, *,
            dry_run: bool, force: bool, confirm_overwrite: Confirm | None) -> Outcome:
    """One file's status; the file is written unless dry_run, identical, conflict or skip."""
    if isinstance(current, _Skipped):
        return Outcome(planned.path, SKIP)
    target = root / planned.path
    if current is None:
        if not dry_run:
            write_atomically(target, planned.content)
        return Outcome(planned.path, CREATE)
    if current == planned.content:
        return Outcome(planned.path, IDENTICAL)
    diff = unified_diff(current, planned.content, planned.path)
    if force or (not dry_run and confirm_overwrite is not None
                 and confirm_overwrite(planned, diff)):
        if not dry_run:
            write_atomically(target, planned.content)
        return Outcome(planned.path, OVERWRITE, diff if dry_run else None)
    return Outcome(planned.path, CONFLICT, diff)


# --- before the first write ------------------------------------------------------------------


def survey_targets(files: Sequence[PlannedFile], root: Path, *, skip: Sequence[str],
                   writing: bool, replacing: bool) -> list[Surveyed]:
    """Read what is on disk at each planned path; ToolkitError listing every file that could
    not be written (nothing has been written yet). ``replacing``: a differing file may be
    replaced (--force or a question at the terminal), so its directory must be writable."""
    survey: list[Surveyed] = []
    problems: list[str] = []
    for planned in files:
        if matches(planned.path, skip):
            survey.append((planned, SKIPPED))
            continue
        try:
            current, problem = _inspect(root, planned, writing=writing, replacing=replacing)
        except OSError as error:  # e.g. a directory above it that this user cannot enter
            current, problem = None, f"it cannot be looked at ({error.strerror or error})"
        if problem is not None:
            problems.append(f"{planned.path.as_posix()}: {problem}")
        survey.append((planned, current))
    if problems:
        raise ToolkitError(
            "scaffold cannot write every file, so it wrote none:\n  " + "\n  ".join(problems)
            + "\nMove what is in the way or fix the permissions and rerun, or pass --skip "
            "PATTERN for a file you do not want.")
    return survey


def _inspect(root: Path, planned: PlannedFile, *, writing: bool, replacing: bool
             ) -> tuple[bytes | None, str | None]:
    """What is at the file's place now, and what keeps scaffold from writing it."""
    problem = _obstacle(root, planned.path)
    if problem is not None:
        return None, problem
    current, problem = _read(root / planned.path)
    will_write = current is None or (replacing and current != planned.content)
    if problem is None and writing and will_write:
        problem = _unwritable(root, planned.path)
    return current, problem


def _obstacle(root: Path, relative: Path) -> str | None:
    """What on disk keeps a file from being written at ``relative``, if anything."""
    for parent in reversed(relative.parents[:-1]):  # a, a/b, ... (not the root itself)
        place = root / parent
        if not place.exists() and not place.is_symlink():
            break  # scaffold creates it and everything below it
        if not place.is_dir():
            return (f"{parent.as_posix()} is a file (or a broken link), but scaffold needs a "
                    "directory there")
    target = root / relative
    if target.is_symlink() and not target.exists():
        return "it is a broken symbolic link; remove it or point it at a file"
    if target.is_dir():
        return "it is a directory, but scaffold writes a file there"
    if target.exists() and not target.is_file():
        return "it is not a regular file (a pipe, socket or device), so scaffold cannot " \
               "compare it with what it writes"
    return None


def _read(target: Path) -> tuple[bytes | None, str | None]:
    if not target.exists():
        return None, None
    try:
        return target.read_bytes(), None
    except OSError as error:
        return None, f"it cannot be read ({error.strerror or error})"


def _unwritable(root: Path, relative: Path) -> str | None:
    """Whether the directory that receives the file (or its nearest existing ancestor,
    where scaffold creates the rest) lets this user create files in it."""
    directory = (root / relative).parent
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    if os.access(directory, os.W_OK | os.X_OK):
        return None
    shown = directory.relative_to(root).as_posix() if directory.is_relative_to(root) else \
        str(directory)
    return f"the directory {shown} is not writable (read-only, or owned by another user)"


# --- writing ---------------------------------------------------------------------------------


def _missing_directories(directory: Path) -> list[Path]:
    """The directories mkdir(parents=True) would create, deepest first."""
    missing = []
    while not directory.exists() and directory != directory.parent:
        missing.append(directory)
        directory = directory.parent
    return missing


def write_atomically(target: Path, content: bytes) -> None:
    """Write to a temporary file beside ``target``, then rename it into place: a failure at
    any point leaves the old file (or none) and no temporary file or new empty directory."""
    created = _missing_directories(target.parent)
    temporary: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        mode = target.stat().st_mode & 0o7777 if target.exists() else 0o644
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        for directory in created:
            try:
                directory.rmdir()
            except OSError:
                break
        raise


def write_failure(planned: PlannedFile, error: OSError, outcomes: Sequence[Outcome],
                  rest: Sequence[Surveyed]) -> ToolkitError:
    """The error after a write failed part-way: what was written and what was not."""
    written = [outcome.path.as_posix() for outcome in outcomes
               if outcome.status in (CREATE, OVERWRITE)]
    pending = [planned.path.as_posix()] + [
        later.path.as_posix() for later, current in rest
        if not isinstance(current, _Skipped) and current != later.content]
    if isinstance(error, (FileExistsError, NotADirectoryError)):
        reason = "a file is where its directory must be"
    else:
        reason = error.strerror or str(error)
    return ToolkitError(
        f"Could not write {planned.path.as_posix()}: {reason}. "
        f"Written: {', '.join(written) or 'none'}. Not written: {', '.join(pending)}. "
        "No file was left half-written (each is written beside its place and renamed "
        "into it). Fix the cause (disk space, permissions) and rerun scaffold: the files "
        "already written then show as identical.")
