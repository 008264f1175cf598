"""`ci-toolkit scaffold`: write workflows, the action-server Dockerfile and chart values."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ci_toolkit.errors import ToolkitError

# scaffold reads nothing from the environment beyond its options.
ENV_VARS_READ: tuple[str, ...] = ()

_STYLES = {"create": "green", "identical": "blue", "conflict": "red", "skip": "yellow",
           "overwrite": "magenta"}


def _status_line(status: str, path: Path, *, colour: bool) -> str:
    verb = f"{status:>10}"
    if colour:
        verb = click.style(verb, fg=_STYLES[status], bold=True)
    return f"{verb}  {path.as_posix()}"


def _ask_to_overwrite(planned: Any, diff: str) -> bool:
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


def _rasa_version(given: str | None, project_root: Path) -> tuple[str, str | None]:
    from ci_toolkit.action_helpers import normalize_rasa_version
    from ci_toolkit.pipeline.project import pinned_rasa_version
    from ci_toolkit.scaffold.context import DEFAULT_RASA_VERSION

    note = None
    if not given:
        given = pinned_rasa_version(project_root)
        if given:
            note = f"rasa {given}, as the project's requirements pin it"
        else:
            given = DEFAULT_RASA_VERSION
            note = (f"rasa {given}: no requirements*.txt in the project pins rasa "
                    "(pass --rasa-version to choose)")
    version = normalize_rasa_version(given)
    return version.release, version.notice or note


def _next_steps(options: Any) -> None:
    from ci_toolkit.scaffold.context import template_context

    settings = template_context(options)["deploy_settings"]
    lines = ["", "Next: review and commit the files."]
    if settings:
        lines.append("The main-branch workflow needs these repository (or `production` "
                     "environment) secrets:")
        lines += [f"  {name}: {what}" for name, what in settings]  # type: ignore[union-attr]
    click.echo("\n".join(lines), err=True)


@click.command("scaffold")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".",
                envvar="CI_TOOLKIT_WORKSPACE")
@click.option("--config", metavar="FILE", envvar="CI_TOOLKIT_CONFIGURATION",
              help="The model configuration, relative to DIRECTORY. [default: config.yml]")
@click.option("--domain", metavar="PATH", envvar="CI_TOOLKIT_DOMAIN",
              help="The domain file or directory. [default: domain.yml or domain/]")
@click.option("--data", metavar="PATH", multiple=True, envvar="CI_TOOLKIT_DATA",
              help="Training data file or directory (repeatable). [default: data]")
@click.option("--tests", metavar="PATH", envvar="CI_TOOLKIT_TESTS",
              help="Test stories file or directory. [default: tests, when it exists]")
@click.option("--assistant-name", envvar="CI_TOOLKIT_ASSISTANT_NAME",
              help="Name shown in summaries and comments. [default: DIRECTORY's name]")
@click.option("--rasa-version", envvar="CI_TOOLKIT_RASA_VERSION",
              help="The rasa release the workflows install. [default: the version the "
                   "project's requirements*.txt pins, else 3.6.21]")
@click.option("--python-version", default="3.10", show_default=True,
              envvar="CI_TOOLKIT_PYTHON_VERSION", help="Python for rasa (rasa 3.6: 3.8 to 3.10).")
@click.option("--toolkit-requirement", envvar="CI_TOOLKIT_TOOLKIT_REQUIREMENT", metavar="SPEC",
              help="How the workflows pip-install ci-toolkit. [default: ci-toolkit==VERSION of "
                   "this ci-toolkit]")
@click.option("--registry", default="ghcr.io", show_default=True,
              envvar="CI_TOOLKIT_DOCKER_REGISTRY",
              help="Registry the action-server image is pushed to. ghcr.io needs no secret: "
                   "the workflow's token can push there.")
@click.option("--image-name", envvar="CI_TOOLKIT_DOCKER_IMAGE_NAME", metavar="NAME",
              help="Name of the action-server image in the registry. [default: the GitHub "
                   "repository's owner/name, in lower case]")
@click.option("--deploy-target", type=click.Choice(["none", "rasa-x", "rasa-server"]),
              default="none", show_default=True, envvar="CI_TOOLKIT_DEPLOY_TARGET",
              help="Where the main-branch workflow sends the trained model: upload it to Rasa X "
                   "and tag it production, load it on a Rasa server (PUT /model), or nowhere.")
@click.option("--chart-preset", type=click.Choice(["none", "assistant-ci", "rasa-x", "rasa"]),
              default="none", show_default=True, envvar="CI_TOOLKIT_CHART_PRESET",
              help="Helm chart whose value keys get the new image (assistant-ci: this "
                   "toolkit's chart, actionServer.image.*; rasa-x: app.name/app.tag; rasa: "
                   "image.repository/image.tag). With a preset, the main-branch workflow runs "
                   "`helm upgrade` and writes a values file. none: no helm.")
@click.option("--chart-ref", envvar="CI_TOOLKIT_HELM_CHART", metavar="CHART",
              help="The chart to install, e.g. rasa-x/rasa-x or oci://... [default: the "
                   "preset's usual chart]")
@click.option("--values-file", default="deploy/values.yml", show_default=True,
              envvar="CI_TOOLKIT_VALUES_FILE", metavar="PATH",
              help="Where the chart values go, relative to DIRECTORY.")
@click.option("--release", default="assistant", show_default=True,
              envvar="CI_TOOLKIT_HELM_RELEASE", help="The helm release name.")
@click.option("--namespace", envvar="CI_TOOLKIT_HELM_NAMESPACE",
              help="Kubernetes namespace of the release. [default: the kube context's]")
@click.option("--branch", "default_branch", default="main", show_default=True,
              envvar="CI_TOOLKIT_DEFAULT_BRANCH",
              help="The branch that deploys; pull requests into it are compared with its last "
                   "report.")
@click.option("--schedule", default="0 4 * * 1", show_default=True, envvar="CI_TOOLKIT_SCHEDULE",
              metavar="CRON", help="When the full cross-validation workflow runs (UTC).")
@click.option("--no-schedule", is_flag=True, envvar="CI_TOOLKIT_NO_SCHEDULE",
              help="Do not write the scheduled cross-validation workflow.")
@click.option("--folds", type=int, default=5, show_default=True,
              envvar="CI_TOOLKIT_SCHEDULE_FOLDS",
              help="Folds of the scheduled cross-validation (pull requests use 3).")
@click.option("--pr-cross-validation/--no-pr-cross-validation", default=True, show_default=True,
              envvar="CI_TOOLKIT_PR_CROSS_VALIDATION",
              help="Also cross-validate on pull requests (3 folds; cached while the NLU data "
                   "does not change).")
@click.option("--timeout-minutes", type=int, default=90, show_default=True,
              envvar="CI_TOOLKIT_TIMEOUT_MINUTES", help="Time limit of the pipeline jobs.")
@click.option("--skip", multiple=True, envvar="CI_TOOLKIT_SKIP", metavar="PATTERN",
              help="Never write files matching PATTERN (a glob on the path, e.g. "
                   "'.github/workflows/assistant-cd.yml' or 'Dockerfile'). Repeatable.")
@click.option("--dry-run", is_flag=True, envvar="CI_TOOLKIT_DRY_RUN",
              help="Write nothing; show what would be written and the diff of each conflict.")
@click.option("--force", is_flag=True, envvar="CI_TOOLKIT_FORCE",
              help="Overwrite files that differ from what scaffold writes (their diffs are "
                   "shown first with --dry-run).")
def scaffold(directory: Path, config: str | None, domain: str | None, data: tuple[str, ...],
             tests: str | None, assistant_name: str | None, rasa_version: str | None,
             no_schedule: bool, schedule: str, dry_run: bool, force: bool,
             skip: tuple[str, ...], **choices: Any) -> None:
    """Write workflows, Dockerfile and chart values into a project.

    DIRECTORY is the Rasa assistant (default: the current directory). The workflows go to
    .github/workflows/ of the git repository that holds it: a pull-request workflow
    (validate, train, test, cross-validate, sticky summary comment), a main-branch workflow
    (train and test, build and push the action-server image, deploy) and a scheduled full
    cross-validation. The Dockerfile and .dockerignore (when the project has actions/) and
    the chart values go into DIRECTORY.

    \b
    Prints one status per file: create, identical, conflict, skip or overwrite.
    A file that differs is never replaced without --force (or a "yes" at the terminal);
    its diff is shown instead. Running scaffold twice changes nothing.
    Exits 0 when every file is written or already identical, 1 when conflicts remain,
    2 when DIRECTORY is not a Rasa project or an option is invalid.
    """
    from ci_toolkit.pipeline.project import load_project
    from ci_toolkit.scaffold.context import (
        ScaffoldOptions,
        layout_of,
        project_dir_in,
        repository_root,
    )
    from ci_toolkit.scaffold.render import CONFLICT, CREATE, OVERWRITE, apply, plan

    project = load_project(directory, config=config, domain=domain, data=list(data) or None,
                           tests=tests)
    repo_root = repository_root(directory)
    release, note = _rasa_version(rasa_version, project.root)
    layout = layout_of(project)
    if assistant_name:
        layout["assistant_name"] = assistant_name
    choices["chart"] = choices.pop("chart_preset")
    if choices["toolkit_requirement"] is None:
        del choices["toolkit_requirement"]  # the default pins this very version
    options = ScaffoldOptions(
        project_dir=project_dir_in(project, repo_root),
        rasa_version=release,
        schedule=None if no_schedule else schedule,
        **layout,  # type: ignore[arg-type]
        **choices,
    )
    if note:
        click.echo(f"Using {note}.", err=True)

    colour = sys.stderr.isatty()
    interactive = sys.stdin.isatty() and not dry_run and not force

    def report(outcome: Any) -> None:
        click.echo(_status_line(outcome.status, outcome.path, colour=colour), err=True)
        if outcome.diff:
            click.echo(outcome.diff, nl=False)

    outcomes = apply(plan(options), repo_root, dry_run=dry_run, force=force, skip=skip,
                     confirm_overwrite=_ask_to_overwrite if interactive else None, report=report)
    conflicts = [o for o in outcomes if o.status == CONFLICT]
    if dry_run:
        click.echo("Dry run: nothing was written.", err=True)
        return
    if any(o.status in (CREATE, OVERWRITE) for o in outcomes):
        _next_steps(options)
    if conflicts:
        names = ", ".join(o.path.as_posix() for o in conflicts)
        raise ToolkitError(
            f"{len(conflicts)} file(s) differ from what scaffold writes and were left as they "
            f"are: {names}. Review the diff above; rerun with --force to overwrite them, or "
            "with --skip PATTERN to keep yours and stop seeing them."
        )
