"""`ci-toolkit scaffold`: write workflows, the action-server Dockerfile and chart values."""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ci_toolkit.commands import argument_from, option_from, option_group
from ci_toolkit.scaffold.options import ScaffoldRequest

if TYPE_CHECKING:
    from ci_toolkit.scaffold.files import Outcome, PlannedFile

# scaffold reads nothing from the environment beyond its options.
ENV_VARS_READ: tuple[str, ...] = ()

_STYLES = {"create": "green", "identical": "blue", "conflict": "red", "skip": "yellow",
           "overwrite": "magenta"}


# The options whose flags are not spelled like their field; every other field of the request
# is the option --field-name, in the order the request declares them.
_FLAGS = {"chart": ("--chart-preset",), "default_branch": ("--branch",),
          "pr_cross_validation": ("--pr-cross-validation/--no-pr-cross-validation",)}
_OPTIONS = option_group(*(option_from(ScaffoldRequest, field.name, *_FLAGS.get(field.name, ()))
                          for field in fields(ScaffoldRequest) if field.name != "directory"))


def _status_line(status: str, path: Path, *, colour: bool) -> str:
    verb = f"{status:>10}"
    if colour:
        verb = click.style(verb, fg=_STYLES[status], bold=True)
    return f"{verb}  {path.as_posix()}"


def _show(outcome: Outcome) -> None:
    click.echo(_status_line(outcome.status, outcome.path, colour=sys.stderr.isatty()), err=True)
    if outcome.diff:
        click.echo(outcome.diff, nl=False)


def _ask_to_overwrite(planned: PlannedFile, diff: str) -> bool:
    """Interactive only: show the diff on request, default to keeping the user's file."""
    while True:
        answer = click.prompt(f"{planned.path.as_posix()} differs. Overwrite it? [y]es / [n]o / "
                              "[d]iff", default="n", show_default=False, err=True).strip().lower()
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no", ""):
            return False
        if answer in ("d", "diff"):
            click.echo(diff, err=True)


@click.command("scaffold")
@argument_from(ScaffoldRequest, "directory", type=click.Path(file_okay=False, path_type=Path),
               default=".")
@_OPTIONS
def scaffold(directory: Path, **options: Any) -> None:
    """Write workflows, Dockerfile and chart values into a project.

    DIRECTORY is the Rasa assistant (default: the current directory). The workflows go to
    .github/workflows/ of the git repository that holds it: a pull-request workflow
    (validate, train, test, cross-validate, sticky summary comment), a main-branch workflow
    (train and test, build and push the action-server image, deploy), a sharded
    cross-validation (one matrix job per fold; weekly, on demand, and on pull requests
    labelled --trigger-label or changing the model's inputs) and a config comparison
    (the base branch's config.yml against the pull request's). The Dockerfile and
    .dockerignore (when the project has actions/) and the chart values go into DIRECTORY.

    The jobs use this repository's composite actions at --action-repo and --action-ref
    (their defaults are below): they install rasa, the project's requirements.txt and
    ci-toolkit from the action's own checkout, so nothing is installed by a package name.
    The rasa release is requirements.txt's `rasa==` pin, read when the job runs, unless
    --rasa-version is given. Paths filters and required status checks: see
    --no-paths-filter.

    \b
    Prints one status per file: create, identical, conflict, skip or overwrite.
    A file that differs is never replaced without --force (or a "yes" at the terminal);
    its diff is shown instead. Running scaffold twice changes nothing.
    Every option is checked and every file rendered and compared before the first write.
    Exits 0 when every file is written or already identical, 1 when conflicts remain or a
    file cannot be written (the error names the files written and those not written),
    2 when DIRECTORY is not a Rasa project or an option is invalid.
    """
    from ci_toolkit.scaffold.run import scaffold as write_files

    request = ScaffoldRequest(directory=directory, **options)
    # Ask only a person who can see the question (on stderr) and answer it (on stdin); in CI
    # or with either redirected a differing file is a conflict, listed in the error.
    interactive = (sys.stdin.isatty() and sys.stderr.isatty() and not request.dry_run
                   and not request.force)
    write_files(request, notify=lambda text: click.echo(text, err=True), report=_show,
                confirm_overwrite=_ask_to_overwrite if interactive else None)
