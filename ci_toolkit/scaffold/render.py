"""Write workflows, the action-server Dockerfile and chart values into an assistant's repository.

Rendering comes first and touches nothing: every file is rendered to bytes, then compared
with what is on disk, and only then written (copier's order). Each file gets one status:

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
from functools import lru_cache
from pathlib import Path

from ci_toolkit.errors import UsageError
from ci_toolkit.resources import shipped_path
from ci_toolkit.scaffold.context import FILTERS, template_context
from ci_toolkit.scaffold.options import ScaffoldOptions

CREATE, IDENTICAL, CONFLICT = "create", "identical", "conflict"
SKIP, OVERWRITE = "skip", "overwrite"

# The workflow files, by template; the cross-validation one only with a schedule.
WORKFLOW_TEMPLATES = {
    "ci": "assistant-ci.yml.j2",
    "cd": "assistant-cd.yml.j2",
    "cross_validation": "assistant-cross-validation.yml.j2",
}
# Shipped docker/ files copied as they are into the assistant's directory (the build context).
DOCKER_FILES = ("Dockerfile", ".dockerignore")


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


@lru_cache(maxsize=4)
def _environment(templates: Path):  # -> jinja2.Environment (compiled templates are kept)
    import jinja2

    # GitHub's own `${{ }}` expressions fill the workflows, so the templates use << >> and
    # <% %> for jinja; StrictUndefined turns a missing variable into an error, not "".
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        undefined=jinja2.StrictUndefined,
        variable_start_string="<<", variable_end_string=">>",
        block_start_string="<%", block_end_string="%>",
        comment_start_string="<#", comment_end_string="#>",
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(FILTERS)
    return env


def _render(env, name: str, context: dict[str, object]) -> bytes:  # env: jinja2.Environment
    import jinja2

    try:
        text = env.get_template(name).render(**context)
    except jinja2.UndefinedError as error:
        # A bug in a template or in template_context, never the user's input.
        raise RuntimeError(f"template {name} uses an undefined variable: {error}") from error
    return text.encode("utf-8")


def plan(options: ScaffoldOptions) -> list[PlannedFile]:
    """Render every file scaffold would write, without touching the disk."""
    context = template_context(options)
    templates = shipped_path("templates")
    env = _environment(templates)
    files: list[PlannedFile] = []
    workflows_dir = Path(".github") / "workflows"
    names: dict[str, str] = context["workflow_files"]  # type: ignore[assignment]
    for key, template in WORKFLOW_TEMPLATES.items():
        if key not in names:
            continue
        origin = f"workflows/{template}"
        files.append(PlannedFile(workflows_dir / names[key], _render(env, origin, context), origin))

    project_dir = Path(options.project_dir)
    if context["build_image"]:
        docker = shipped_path("docker")
        for name in DOCKER_FILES:
            source = docker / name
            if source.is_file():
                files.append(PlannedFile(project_dir / name, source.read_bytes(), f"docker/{name}"))
    if options.chart != "none":
        origin = f"values/{options.chart}.yml.j2"
        files.append(PlannedFile(project_dir / options.values_file,
                                 _render(env, origin, context), origin))
    return files


def unified_diff(current: bytes, planned: bytes, path: Path) -> str:
    """The change scaffold would make to ``path``, as a unified diff (``-`` is yours)."""
    old = current.decode("utf-8", errors="replace").splitlines(keepends=True)
    new = planned.decode("utf-8", errors="replace").splitlines(keepends=True)
    lines = difflib.unified_diff(old, new, fromfile=f"{path} (yours)",
                                 tofile=f"{path} (scaffold)")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _write_atomically(target: Path, content: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        if target.exists():
            os.chmod(temporary, target.stat().st_mode & 0o7777)
        else:
            os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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
    confirm_overwrite: Callable[[PlannedFile, str], bool] | None = None,
    report: Callable[[Outcome], None] = lambda outcome: None,
) -> list[Outcome]:
    """Write the planned files under ``root``; never replace a differing file unasked.

    ``confirm_overwrite(file, diff)`` is asked about each differing file when given (only
    when a person sits at a terminal); otherwise a differing file is a conflict unless
    ``force`` is set.
    """
    outcomes = []
    for planned in files:
        target = root / planned.path
        if matches(planned.path, skip):
            outcome = Outcome(planned.path, SKIP)
        elif target.is_dir():
            raise UsageError(
                f"{target} is a directory, but scaffold writes a file there. Move it away "
                f"or pass --skip '{planned.path.as_posix()}'."
            )
        elif not target.exists():
            if not dry_run:
                _write_atomically(target, planned.content)
            outcome = Outcome(planned.path, CREATE)
        else:
            current = target.read_bytes()
            if current == planned.content:
                outcome = Outcome(planned.path, IDENTICAL)
            else:
                diff = unified_diff(current, planned.content, planned.path)
                replace = force or (not dry_run and confirm_overwrite is not None
                                    and confirm_overwrite(planned, diff))
                if replace:
                    if not dry_run:
                        _write_atomically(target, planned.content)
                    outcome = Outcome(planned.path, OVERWRITE, diff if dry_run else None)
                else:
                    outcome = Outcome(planned.path, CONFLICT, diff)
        report(outcome)
        outcomes.append(outcome)
    return outcomes
