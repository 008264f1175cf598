"""The composite actions are wired to the code they call.

For each action.yml: every input is used, every env var a step sets is read by what the step
runs (a ci-toolkit command's option env vars and ENV_VARS_READ, the action helper's
ENV_VARS_READ, or the step's own script), every output is written by that code, no run:
script interpolates `${{ }}`, and every third-party action is pinned to a commit.
"""

from __future__ import annotations

import ast
import importlib
import re
import shlex
import sys
from functools import cache
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from ci_toolkit import action_helpers
from ci_toolkit.cli import COMMANDS

REPO_ROOT = Path(__file__).resolve().parents[2]
ACTION_FILES = sorted(
    path for path in (REPO_ROOT / "action.yml", *REPO_ROOT.glob("*/action.yml"))
    if path.is_file() and ".venv" not in path.parts
)
HELPER_MODULE = "ci_toolkit.action_helpers"
PACKAGE_DIR = REPO_ROOT / "ci_toolkit"
_STEP_OUTPUT = re.compile(r"^\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}$")
_SHELL_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _ids(paths: list[Path]) -> list[str]:
    return [path.relative_to(REPO_ROOT).as_posix() for path in paths]


def test_the_three_actions_are_found() -> None:
    assert _ids(ACTION_FILES) == ["action-server/action.yml", "action.yml", "deploy/action.yml"]


# --- what a step runs ----------------------------------------------------------------------


def _command_of(script: str) -> tuple[str, list[str]]:
    """('ci-toolkit', [command, sub...]) or ('helper', [subcommand]) for one run: line."""
    lines = [line for line in script.strip().splitlines() if line.strip()]
    assert len(lines) == 1, f"a step runs one command line, not:\n{script}"
    words = shlex.split(lines[0])
    if words[0] == "ci-toolkit":
        return "ci-toolkit", [w for w in words[1:] if not w.startswith("-")]
    if words[1:3] == ["-m", HELPER_MODULE]:
        return "helper", words[3:4]
    raise AssertionError(f"unexpected command in an action step: {lines[0]}")


def _click_command(words: list[str]) -> tuple[click.Command, Any]:
    module_name, attribute, _ = COMMANDS[words[0]]
    module = importlib.import_module(module_name)
    command = getattr(module, attribute)
    for word in words[1:]:
        assert isinstance(command, click.Group), f"{words} names no subcommand"
        command = command.commands[word]
    return command, module


def _env_vars_read(kind: str, words: list[str]) -> set[str]:
    if kind == "helper":
        return set(action_helpers.ENV_VARS_READ)
    command, module = _click_command(words)
    names: set[str] = set(getattr(module, "ENV_VARS_READ", ()))
    for parameter in command.params:
        envvar = getattr(parameter, "envvar", None)
        if isinstance(envvar, str):
            names.add(envvar)
        elif envvar:
            names.update(envvar)
    return names


def _module_file(name: str) -> Path | None:
    relative = Path(*name.split("."))
    for candidate in (REPO_ROOT / relative.with_suffix(".py"),
                      REPO_ROOT / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@cache
def _strings_of_module_closure(module_name: str) -> frozenset[str]:
    """Every string literal in a module and in the ci_toolkit modules it imports, transitively
    (also imports inside functions: commands import their helpers lazily)."""
    seen: set[str] = set()
    strings: set[str] = set()
    pending = [module_name]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_file(name)
        if path is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value)
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
                    "ci_toolkit"):
                pending.append(node.module)
                pending.extend(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                pending.extend(a.name for a in node.names if a.name.startswith("ci_toolkit"))
    return frozenset(strings)


def _outputs_written(kind: str, words: list[str]) -> set[str]:
    if kind == "helper":
        return set(action_helpers.OUTPUTS[words[0]])
    _, module = _click_command(words)
    return set(_strings_of_module_closure(module.__name__))


def _steps(action: dict[str, Any]) -> list[dict[str, Any]]:
    assert action["runs"]["using"] == "composite"
    return action["runs"]["steps"]


def _run_steps(action: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for step in _steps(action) if "run" in step]


# --- the checks ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ACTION_FILES, ids=_ids(ACTION_FILES))
def test_every_input_is_used(path: Path) -> None:
    action = _load(path)
    body = yaml.safe_dump({"runs": action["runs"], "outputs": action.get("outputs", {})})
    unused = [name for name in action.get("inputs", {})
              if not re.search(rf"\binputs\.{re.escape(name)}\b", body)]
    assert unused == [], f"{path.name}: inputs nothing reads: {unused}"


@pytest.mark.parametrize("path", ACTION_FILES, ids=_ids(ACTION_FILES))
def test_every_env_var_a_step_sets_is_read_by_what_it_runs(path: Path) -> None:
    problems = []
    for step in _run_steps(_load(path)):
        if step.get("if") == "runner.os != 'Linux'":
            continue  # the fail-fast check runs no command
        kind, words = _command_of(step["run"])
        read = _env_vars_read(kind, words)
        used_by_script = set(_SHELL_VARIABLE.findall(step["run"]))
        for name in step.get("env", {}):
            if name not in read and name not in used_by_script:
                problems.append(f"step '{step['name']}' sets {name}, which "
                                f"`{' '.join([kind, *words])}` does not read")
    assert problems == []


@pytest.mark.parametrize("path", ACTION_FILES, ids=_ids(ACTION_FILES))
def test_no_run_script_interpolates_an_expression(path: Path) -> None:
    """Inputs reach scripts through env: only; `${{ }}` in a script is an injection risk."""
    action = _load(path)
    for step in _run_steps(action):
        assert "${{" not in step["run"], f"step '{step['name']}' interpolates into its script"


@pytest.mark.parametrize("path", ACTION_FILES, ids=_ids(ACTION_FILES))
def test_every_output_is_written_by_the_code(path: Path) -> None:
    action = _load(path)
    steps = {step.get("id"): step for step in _steps(action) if step.get("id")}
    problems = []
    for name, output in action.get("outputs", {}).items():
        match = _STEP_OUTPUT.match(str(output["value"]).strip())
        assert match, f"output {name} must be one step output, not {output['value']!r}"
        step_id, step_output = match.groups()
        step = steps.get(step_id)
        assert step is not None, f"output {name} reads step '{step_id}', which does not exist"
        assert "run" in step, f"output {name} comes from '{step_id}', which runs no code of ours"
        kind, words = _command_of(step["run"])
        if step_output not in _outputs_written(kind, words):
            problems.append(f"output {name}: `{' '.join(words)}` never writes '{step_output}'")
    assert problems == []


@pytest.mark.parametrize("path", ACTION_FILES, ids=_ids(ACTION_FILES))
def test_third_party_actions_are_pinned_to_a_commit_with_the_version_noted(path: Path) -> None:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip().startswith(("uses:", "- uses:"))]
    assert lines, "the action uses no action at all?"
    for line in lines:
        assert re.search(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


@pytest.mark.parametrize("path", ACTION_FILES, ids=_ids(ACTION_FILES))
def test_the_action_fails_fast_on_runners_it_does_not_support(path: Path) -> None:
    first = _steps(_load(path))[0]
    assert first["if"] == "runner.os != 'Linux'"
    assert "::error" in first["run"] and "exit 1" in first["run"]


def test_the_helper_runs_without_third_party_packages() -> None:
    """The helper runs before ci-toolkit (and click, yaml...) is installed."""
    pending, checked = [HELPER_MODULE, "ci_toolkit"], set()
    while pending:
        name = pending.pop()
        if name in checked:
            continue
        checked.add(name)
        path = _module_file(name)
        assert path is not None, name
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                top = node.module.split(".")[0]
                assert top in ("ci_toolkit", "__future__") or top in sys.stdlib_module_names, (
                    f"{name} imports {node.module}")
                if top == "ci_toolkit":
                    pending.append(node.module)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] in sys.stdlib_module_names, (
                        f"{name} imports {alias.name}")
    assert {"ci_toolkit.gha", "ci_toolkit.errors", "ci_toolkit.proc"} <= checked


def test_the_contract_checks_can_fail(tmp_path: Path) -> None:
    """A mis-wired step (typo in an env var, unknown output) is caught."""
    kind, words = _command_of("ci-toolkit run")
    read = _env_vars_read(kind, words)
    assert "CI_TOOLKIT_CONFIGURATION" in read and "CI_TOOLKIT_CONFIGURATON" not in read
    assert "report" in _outputs_written(kind, words)
    assert "no_such_output_anywhere" not in _outputs_written(kind, words)
    with pytest.raises(AssertionError):
        _command_of("echo hello")
