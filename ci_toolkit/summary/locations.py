"""Where a file named in report.json is, and where a test story starts in it.

The files rasa names (test stories, validation findings) are relative to the assistant's
project directory (``assistant.project_dir``, itself relative to the directory ci-toolkit ran
from). Annotations need paths relative to the repository root ($GITHUB_WORKSPACE).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path


def _candidates(path: str, *, project_dir: str | None, root: Path) -> list[Path]:
    candidate = Path(path)
    if candidate.is_absolute():
        return [candidate]
    # rasa's paths (findings, test stories) are relative to the project: try that first.
    tries = [root / project_dir / candidate] if project_dir else []
    return [*tries, root / candidate]


def resolve_file(path: str | None, *, project_dir: str | None, root: Path) -> Path | None:
    """The existing file a report path names, trying the project, then the run directory."""
    if not path:
        return None
    for option in _candidates(path, project_dir=project_dir, root=root):
        if option.is_file():
            return option
    return None


def relative_to_root(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` in POSIX form, or absolute when it lies outside."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def _story_pattern(name: str) -> re.Pattern[str]:
    quoted = re.escape(name)
    name = rf"""(?:"{quoted}"|'{quoted}'|{quoted})"""
    return re.compile(rf"^\s*-\s*(?:story|rule):\s*{name}\s*(?:#.*)?$")


@lru_cache(maxsize=64)
def _lines(path: Path, mtime_ns: int) -> tuple[str, ...]:
    try:
        return tuple(path.read_text(encoding="utf-8", errors="replace").splitlines())
    except OSError:
        return ()


def find_story_line(path: Path, name: str) -> int | None:
    """The 1-based line of ``- story: <name>`` in a stories file, or None."""
    try:
        lines = _lines(path, path.stat().st_mtime_ns)
    except OSError:
        return None
    pattern = _story_pattern(name.strip())
    for number, text in enumerate(lines, start=1):
        if pattern.match(text):
            return number
    return None


def locate(path: str | None, *, project_dir: str | None, root: Path, story: str | None = None,
           relative_to: Path | None = None) -> tuple[str | None, int | None]:
    """(path, line) of a file named in the report, with the story's line if one is named.

    ``project_dir`` is the report's ``assistant.project_dir``. The path is resolved against
    ``root`` (the run directory) and returned relative to
    ``relative_to`` (default: ``root``), e.g. the repository root for annotations.
    """
    if not path:
        return None, None
    found = resolve_file(path, project_dir=project_dir, root=root)
    if found is None:
        # Not on disk here (e.g. a summary job without a checkout): still name it as the
        # project-relative path it most likely is.
        guess = _candidates(path, project_dir=project_dir, root=root)[0]
        return relative_to_root(guess, relative_to or root), None
    line = find_story_line(found, story) if story else None
    return relative_to_root(found, relative_to or root), line
