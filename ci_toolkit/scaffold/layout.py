"""From a scaffold request to the checked options: where the project's files are, which
repository holds it, and which rasa release its workflows install."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, fields
from pathlib import Path

from ci_toolkit.action_helpers import normalize_rasa_version, rasa_to_install
from ci_toolkit.errors import UsageError
from ci_toolkit.pipeline.project import RasaProject, load_project, pinned_rasa_version
from ci_toolkit.scaffold.model_config import model_needs, pins_rasa
from ci_toolkit.scaffold.options import (
    DEFAULT_RASA_VERSION,
    ScaffoldOptions,
    ScaffoldRequest,
    check_schedule,
)


@dataclass(frozen=True)
class Resolved:
    options: ScaffoldOptions
    repo_root: Path  # where .github/ belongs; the planned paths are relative to it
    note: str | None  # where the rasa version came from, for the user
    notes: tuple[str, ...] = ()  # what the configuration needs installed


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix() or "."
    except ValueError:  # outside: options.py refuses it, naming the option and the path
        return path.resolve().as_posix()


def repository_root(start: Path) -> Path:
    """The git repository that holds ``start`` (where .github/ belongs), else ``start``."""
    for candidate in (start.resolve(), *start.resolve().parents):
        if (candidate / ".git").exists():
            return candidate
    return start.resolve()


def layout_of(project: RasaProject) -> dict[str, object]:
    """The project's files, relative to its directory, for ScaffoldOptions."""
    root = project.root
    smoke = next((path for path in (root / "tests" / "smoke.yml", root / "smoke.yml")
                  if path.is_file()), None)
    return {
        "smoke_tests": _relative(smoke, root) if smoke is not None else None,
        "config": _relative(project.config, root),
        "domain": _relative(project.domain, root),
        "data": tuple(_relative(path, root) for path in project.data),
        "tests": _relative(project.tests, root) if project.tests is not None else None,
        "has_actions": project.actions is not None and project.actions.is_dir(),
        "assistant_name": project.name,
    }


def rasa_release(given: str | None, project_root: Path) -> tuple[str, str | None]:
    """The rasa release to install, and a note that says where it came from."""
    note = None
    if not given:
        given = pinned_rasa_version(project_root)
        if given:
            note = f"rasa {given}, as the project's requirements pin it"
        else:
            given = DEFAULT_RASA_VERSION
            note = (f"rasa {given}: no requirements*.txt in the project pins rasa "
                    "(pass --rasa-version to choose)")
    try:
        version = normalize_rasa_version(given)
    except UsageError as error:
        if note is None:  # the user's --rasa-version: the message names it already
            raise UsageError(f"--rasa-version: {error}") from error
        raise UsageError(f"The rasa version requirements*.txt pins: {error} Pass "
                         "--rasa-version to choose the release the workflows install.") from error
    return version.release, version.notice or note


# Request fields that reach ScaffoldOptions only after the project was looked at.
_RESOLVED = {"config", "domain", "data", "tests", "assistant_name", "rasa_version", "schedule",
             "values_file"}
# The others go to ScaffoldOptions as they are.
_PASSED_ON = sorted(({field.name for field in fields(ScaffoldOptions)}
                     & {field.name for field in fields(ScaffoldRequest)}) - _RESOLVED)


def resolve(request: ScaffoldRequest) -> Resolved:
    """Look at the project and turn the request into checked options (UsageError if not)."""
    check_schedule(request.schedule)
    project = load_project(request.directory, config=request.config, domain=request.domain,
                           data=list(request.data) or None, tests=request.tests)
    repo_root = repository_root(request.directory)
    release, note = rasa_release(request.rasa_version, project.root)
    layout = layout_of(project)
    if request.assistant_name:
        layout["assistant_name"] = request.assistant_name
    requirements = project.root / "requirements.txt"
    has_requirements = requirements.is_file()
    if has_requirements and request.rasa_version:
        try:  # the action refuses a rasa_version the requirements pin differently
            rasa_to_install({"CI_TOOLKIT_RASA_VERSION": request.rasa_version}, requirements)
        except UsageError as error:
            raise UsageError(f"--rasa-version: {error.message}") from error
    needs = model_needs(project.root, project.config,
                        requirements if has_requirements else None, release)
    # An option left unset (None) takes ScaffoldOptions' default.
    chosen = {name: value for name in _PASSED_ON if (value := getattr(request, name)) is not None}
    options = ScaffoldOptions(
        project_dir=_relative(project.root, repo_root),
        rasa_version=release,
        schedule=None if request.no_schedule else request.schedule,
        # "./deploy//values.yml" is deploy/values.yml: the workflows' path filters compare
        # strings, so the path must be spelled the way GitHub reports changed files.
        values_file=posixpath.normpath(request.values_file) if request.values_file else "",
        paths_filter=not request.no_paths_filter,
        config_comparison=not request.no_config_comparison,
        rasa_requirements="requirements.txt" if has_requirements else None,
        # The action reads the pin at run time, so a pull request that bumps it tests it.
        rasa_from_requirements=(not request.rasa_version and has_requirements
                                and pins_rasa(requirements)),
        component_paths=needs.component_paths,
        duckling_ports=needs.duckling_ports,
        duckling_url=needs.duckling_url,
        **layout,  # type: ignore[arg-type]
        **chosen,
    )
    return Resolved(options, repo_root, note, needs.notes)
