"""`ci-toolkit scaffold` from request to files: resolve, plan, apply, then say what is next.

The caller (the command) owns the terminal: it passes how to show a message, how to show
each file's outcome, and whether and how to ask before overwriting a file.
"""

from __future__ import annotations

from collections.abc import Callable

from ci_toolkit.errors import ToolkitError
from ci_toolkit.scaffold.deploy_values import deploy_settings
from ci_toolkit.scaffold.layout import resolve
from ci_toolkit.scaffold.options import ScaffoldOptions, ScaffoldRequest
from ci_toolkit.scaffold.render import (
    CONFLICT,
    CREATE,
    OVERWRITE,
    Outcome,
    PlannedFile,
    apply,
    plan,
)


def scaffold(request: ScaffoldRequest, *, notify: Callable[[str], None],
             report: Callable[[Outcome], None],
             confirm_overwrite: Callable[[PlannedFile, str], bool] | None = None
             ) -> list[Outcome]:
    """Write the files (or, with dry_run, only report them); ToolkitError on conflicts."""
    resolved = resolve(request)
    if resolved.note:
        notify(f"Using {resolved.note}.")
    outcomes = apply(plan(resolved.options), resolved.repo_root, dry_run=request.dry_run,
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


def next_steps(options: ScaffoldOptions) -> str:
    """What the user does after scaffold wrote files: review, commit, add the secrets."""
    lines = ["", "Next: review and commit the files."]
    settings = deploy_settings(options)
    if settings:
        lines.append("The main-branch workflow needs these repository (or `production` "
                     "environment) secrets:")
        lines += [f"  {name}: {what}" for name, what in settings]
    return "\n".join(lines)
