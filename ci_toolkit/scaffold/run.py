"""`ci-toolkit scaffold` from request to files: resolve, plan, apply, then say what is next.

The caller (the command) owns the terminal: it passes how to show a message, how to show
each file's outcome, and whether and how to ask before overwriting a file.
"""

from __future__ import annotations

from collections.abc import Callable

from ci_toolkit.errors import ToolkitError
from ci_toolkit.scaffold.deploy_values import deploy_settings
from ci_toolkit.scaffold.files import (
    CONFLICT,
    CREATE,
    OVERWRITE,
    Confirm,
    Outcome,
    PlannedFile,
    apply,
    matches,
)
from ci_toolkit.scaffold.layout import resolve
from ci_toolkit.scaffold.options import ScaffoldOptions, ScaffoldRequest
from ci_toolkit.scaffold.render import plan


def scaffold(request: ScaffoldRequest, *, notify: Callable[[str], None],
             report: Callable[[Outcome], None],
             confirm_overwrite: Confirm | None = None) -> list[Outcome]:
    """Write the files (or, with dry_run, only report them); ToolkitError on conflicts.

    Every option is checked and every file rendered before the first write.
    """
    resolved = resolve(request)
    if resolved.note:
        notify(f"Using {resolved.note}.")
    for note in resolved.notes:
        notify(f"Install: {note}")
    files = plan(resolved.options)
    for pattern in unmatched_skips(files, request.skip):
        # Not an error (the same --skip may serve several assistants), but a typo here
        # would let --force replace the very file the user meant to keep.
        notify(f"--skip {pattern!r} matches none of the files scaffold writes: "
               f"{', '.join(planned.path.as_posix() for planned in files)}.")
    outcomes = apply(files, resolved.repo_root, dry_run=request.dry_run,
                     force=request.force, skip=request.skip,
                     confirm_overwrite=confirm_overwrite, report=report)
    if request.dry_run:
        notify("Dry run: nothing was written.")
        return outcomes
    if any(outcome.status in (CREATE, OVERWRITE) for outcome in outcomes):
        notify(next_steps(resolved.options))
    conflicts = [outcome.path.as_posix() for outcome in outcomes if outcome.status == CONFLICT]
    if conflicts:
        raise ToolkitError(
            f"{len(conflicts)} file(s) differ from what scaffold writes and were left as they "
            f"are: {', '.join(conflicts)}. Review the diff above; rerun with --force to "
            "overwrite them, or with --skip PATTERN to keep yours and stop seeing them."
        )
    return outcomes


def unmatched_skips(files: list[PlannedFile], patterns: tuple[str, ...]) -> list[str]:
    return [pattern for pattern in patterns
            if not any(matches(planned.path, (pattern,)) for planned in files)]


def next_steps(options: ScaffoldOptions) -> str:
    """What the user does after scaffold wrote files: review, commit, add the secrets."""
    lines = ["", "Next: review and commit the files."]
    settings = deploy_settings(options)
    if settings:
        lines.append("The main-branch workflow needs these repository (or `production` "
                     "environment) secrets:")
        lines += [f"  {name}: {what}" for name, what in settings]
    return "\n".join(lines)
