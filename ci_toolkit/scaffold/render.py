"""Render what `ci-toolkit scaffold` writes: workflows, the action-server Dockerfile and chart
values, as bytes, without touching the disk (scaffold/files.py compares and writes them).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ci_toolkit.errors import UsageError
from ci_toolkit.resources import shipped_path
from ci_toolkit.scaffold.context import FILTERS, template_context
from ci_toolkit.scaffold.files import PlannedFile
from ci_toolkit.scaffold.options import ScaffoldOptions

# The workflow files, by template; the cross-validation one only with a schedule, the config
# comparison unless --no-config-comparison.
WORKFLOW_TEMPLATES = {
    "ci": "assistant-ci.yml.j2",
    "cd": "assistant-cd.yml.j2",
    "cross_validation": "assistant-cross-validation.yml.j2",
    "config_comparison": "assistant-config-comparison.yml.j2",
}
# Shipped docker/ files copied as they are into the assistant's directory (the build context).
DOCKER_FILES = ("Dockerfile", ".dockerignore")


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
    _refuse_overlaps(files)
    return files


def _refuse_overlaps(files: list[PlannedFile]) -> None:
    """Two planned files at one path, or one inside the other, can only come from a chosen
    path (the values file): refuse before anything is written."""
    for index, first in enumerate(files):
        for second in files[index + 1:]:
            if first.path == second.path or first.path in second.path.parents \
                    or second.path in first.path.parents:
                places = (f"{first.path.as_posix()} twice" if first.path == second.path
                          else f"both {first.path.as_posix()} and {second.path.as_posix()}")
                raise UsageError(
                    f"scaffold would write {places} (from {first.origin} and "
                    f"{second.origin}): one is in the other's place. Choose another "
                    "--values-file, such as deploy/values.yml.")


