"""The scaffold options: declared once, the same on the command line, and checked."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import click
import pytest

from ci_toolkit.errors import UsageError
from ci_toolkit.options import ENV_PREFIX
from ci_toolkit.scaffold.options import (
    CHART_PRESETS,
    DEPLOY_TARGETS,
    ScaffoldOptions,
    ScaffoldRequest,
)

SCAFFOLD_PACKAGE = Path(__file__).resolve().parents[3] / "ci_toolkit" / "scaffold"
LAYOUT = {"project_dir": ".", "assistant_name": "coffeebot", "config": "config.yml",
          "domain": "domain.yml", "data": ("data",), "tests": "tests", "has_actions": True}


def _command_params() -> dict[str, click.Parameter]:
    from ci_toolkit.commands.scaffold import scaffold

    return {str(parameter.name): parameter for parameter in scaffold.params}


def test_every_option_of_the_command_is_a_request_field_with_its_env_var_and_default() -> None:
    params = _command_params()
    declared = {field.name: field for field in dataclasses.fields(ScaffoldRequest)}
    assert set(params) == set(declared)  # DIRECTORY is the `directory` field
    for name, field in declared.items():
        parameter = params[name]
        assert parameter.envvar == ENV_PREFIX + field.metadata["envvar"], name
        if isinstance(parameter, click.Option):
            assert parameter.help == field.metadata["help"], name
        if field.default not in (None, dataclasses.MISSING):
            assert parameter.default == field.default, name


@pytest.mark.parametrize(("name", "choices"), [("deploy_target", DEPLOY_TARGETS),
                                               ("chart", CHART_PRESETS)])
def test_the_choices_on_the_command_line_are_the_declared_ones(
        name: str, choices: tuple[str, ...]) -> None:
    parameter = _command_params()[name]
    assert isinstance(parameter.type, click.Choice)
    assert tuple(parameter.type.choices) == choices


def test_an_option_not_given_means_the_same_in_the_checked_options() -> None:
    request = ScaffoldRequest(directory=Path("."))
    options = ScaffoldOptions(**LAYOUT)  # type: ignore[arg-type]
    for name in ("python_version", "registry", "image_name", "deploy_target", "chart",
                 "chart_ref", "values_file", "release", "namespace", "default_branch",
                 "schedule", "folds", "pr_cross_validation", "timeout_minutes", "action_repo",
                 "action_ref", "action_tag"):
        assert getattr(options, name) == getattr(request, name), name
    assert options.paths_filter is not request.no_paths_filter


@pytest.mark.parametrize(("change", "complaint"), [
    ({"deploy_target": "kubernetes"}, "--deploy-target 'kubernetes' is not valid: use one of"),
    ({"chart": "bitnami"}, "--chart-preset 'bitnami' is not valid: use one of"),
    ({"data": ("data", "../outside")}, "--data '../outside' is not valid: the path leaves "
                                       "DIRECTORY"),
    ({"smoke_tests": "tests/smoke yml"}, "the smoke-test file 'tests/smoke yml' is not valid"),
    ({"tests": "/abs/tests"}, "--tests '/abs/tests' is not valid: the path is outside DIRECTORY"),
    ({"project_dir": "bots/my bot"}, "DIRECTORY (as a path in the repository) 'bots/my bot'"),
    ({"values_file": "deploy/" + "v" * 256}, "longer than 255 characters"),
    ({"namespace": "Bots"}, "--namespace 'Bots' is not valid"),
    ({"schedule": "0 4 * * 8"}, "the day of the week field '8'"),
])
def test_checked_options_refuse_what_the_command_line_cannot_catch(
        change: dict[str, object], complaint: str) -> None:
    with pytest.raises(UsageError, match=re.escape(complaint)):
        ScaffoldOptions(**{**LAYOUT, **change})  # type: ignore[arg-type]


def _imports_of(module: Path) -> set[str]:
    """Every ci_toolkit.scaffold module this one imports, wherever the import stands."""
    found = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {name.rsplit(".", 1)[-1] for name in names
                  if name.startswith("ci_toolkit.scaffold.")
                  and (SCAFFOLD_PACKAGE / f"{name.rsplit('.', 1)[-1]}.py").is_file()}
    return found - {module.stem}


def test_the_scaffold_modules_import_each_other_without_a_cycle() -> None:
    graph = {path.stem: _imports_of(path) for path in SCAFFOLD_PACKAGE.glob("*.py")}
    assert graph["context"] and graph["deploy_values"]  # the test sees the imports
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module in done:
            return
        for imported in graph[module]:
            visit(imported, (*path, module))
        done.add(module)

    for module in graph:
        visit(module, ())
