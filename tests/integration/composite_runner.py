"""A small runner for the composite actions' steps, for tests: what GitHub's runner does with
`inputs`, `env`, `if`, `working-directory`, `continue-on-error`, $GITHUB_OUTPUT and
$GITHUB_PATH, for the expressions our action.yml files and scaffolded workflows use.

A `uses:` step of one of `local_actions` (this repository's own composite actions) runs here
step by step, nested, as GitHub runs it. Other `uses:` steps are GitHub's code and are not
run: the test supplies their outputs (setup-python's python-path), emulates their effect in
`on_uses` (which may return outputs, or raise UsesFailed), or they do nothing here. Every
`run:` step runs for real in bash with `-e`, unless the test's `play` hook plays it.
workflow_runner.py runs a workflow's job with the same machinery.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_CONTEXT_PATH = re.compile(r"\b(inputs|steps|github|runner)((?:\.[A-Za-z_][\w-]*)+)")


# on_uses(target, with values) -> outputs of the step (None: `uses_outputs`' only).
OnUses = Callable[[str, dict[str, str]], "dict[str, str] | None"]


class UsesFailed(Exception):
    """Raised by an `on_uses` hook: the emulated action failed (its message is logged)."""


class _Context(dict):
    """A context object: missing keys read as '' as in GitHub's expressions."""

    def __getattr__(self, name: str) -> Any:
        return self[name]

    def __getitem__(self, name: str) -> Any:
        value = self.get(name, "")
        return _Context(value) if isinstance(value, dict) else value


def parse_github_output(text: str) -> dict[str, str]:
    outputs: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and "=" not in line.split("<<", 1)[0]:
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, index + 1)
            outputs[name] = "\n".join(lines[index + 1:end])
            index = end + 1
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
            index += 1
        else:
            index += 1
    return outputs


def _format(template: str, *values: Any) -> str:
    """GitHub's format(): {N} is the Nth value, {{ and }} are braces."""
    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        return "" if values[int(token[1:-1])] is None else str(values[int(token[1:-1])])
    return re.sub(r"\{\{|\}\}|\{\d+\}", one, template)


@dataclass
class CompositeRun:
    action_file: Path
    inputs: dict[str, str]
    github: dict[str, str]
    runner: dict[str, str]
    environ: dict[str, str]
    work_dir: Path
    # uses: -> outputs it "produces" (keyed by the action's name without @ref)
    uses_outputs: Mapping[str, dict[str, str]] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    failed: bool = False
    # A workflow job's `defaults.run.working-directory` (composite actions have none).
    default_working_directory: str = ""
    # `uses:` name without @ref -> action.yml of a composite action that runs here, nested.
    local_actions: Mapping[str, Path] = field(default_factory=dict)
    # play(run, step, step_id) -> True when the test played that `run:` step itself.
    play: Callable[[CompositeRun, dict[str, Any], str], bool] | None = None
    # The nested runs of `local_actions` steps, by step id.
    nested: dict[str, CompositeRun] = field(default_factory=dict)
    # Inputs given that the action does not declare: GitHub only warns and drops them.
    unexpected_inputs: list[str] = field(default_factory=list)
    _parsed: dict[str, Any] | None = field(default=None, repr=False)

    def _contexts(self) -> dict[str, Any]:
        return {
            "format": _format,
            "inputs": _Context(self.inputs),
            "github": _Context(self.github),
            "runner": _Context(self.runner),
            "steps": _Context({key: {"outputs": value["outputs"], "outcome": value["outcome"]}
                               for key, value in self.steps.items()}),
        }

    def evaluate(self, expression: str) -> Any:
        python = expression.replace("&&", " and ").replace("||", " or ")
        python = re.sub(r"!(?!=)", " not ", python)
        python = python.replace("cancelled()", "False").replace("always()", "True")
        python = python.replace("success()", str(not self.failed))
        python = python.replace("failure()", str(self.failed))
        python = _CONTEXT_PATH.sub(
            lambda m: m.group(1) + "".join(f"[{part!r}]" if "-" in part else f".{part}"
                                           for part in m.group(2).split(".")[1:]), python)
        # Only the action.yml files of this repository are evaluated, with no builtins.
        return eval(python, {"__builtins__": {}}, self._contexts())

    def substitute(self, text: object) -> str:
        def one(match: re.Match[str]) -> str:
            value = self.evaluate(match.group(1))
            return "" if value is None else str(value)
        if isinstance(text, bool):  # YAML's false is the string "false" to an action
            return str(text).lower()
        return _EXPRESSION.sub(one, str(text))

    def condition(self, step: dict[str, Any]) -> bool:
        given = step.get("if")
        if given is None:
            return not self.failed
        text = str(given).strip()
        match = _EXPRESSION.fullmatch(text)
        result = bool(self.evaluate(match.group(1) if match else text))
        # Without a status function, a condition also needs success().
        if not re.search(r"\b(cancelled|always|failure)\(\)", text):
            result = result and not self.failed
        return result

    def run(self, on_uses: OnUses | None = None) -> None:
        action = self._action()
        declared = action.get("inputs", {})
        self.unexpected_inputs = sorted(set(self.inputs) - set(declared))
        if self.unexpected_inputs:
            self.log.append(f"##[warning]Unexpected input(s) {self.unexpected_inputs}, valid "
                            f"inputs are {sorted(declared)}\n")
        for name, spec in declared.items():
            default = spec.get("default", "")
            self.inputs.setdefault(name, self.substitute(default) if default else "")
        self.run_steps(action["runs"]["steps"], on_uses)

    def run_steps(self, steps: list[dict[str, Any]], on_uses: OnUses | None = None) -> None:
        for index, step in enumerate(steps):
            step_id = step.get("id", f"__step{index}")
            if not self.condition(step):
                self.steps[step_id] = {"outputs": {}, "outcome": "skipped"}
                continue
            if "uses" in step:
                self._run_uses(step, step_id, on_uses)
            elif not (self.play and self.play(self, step, step_id)):
                self._run_script(step, step_id)
            # continue-on-error: the outcome stays "failure", the job goes on as if it passed.
            if self.steps[step_id]["outcome"] == "failure" and not step.get("continue-on-error"):
                self.failed = True

    def _run_uses(self, step: dict[str, Any], step_id: str, on_uses: OnUses | None) -> None:
        target = step["uses"].split("@", 1)[0]
        with_values = {k: self.substitute(v) for k, v in step.get("with", {}).items()}
        if target in self.local_actions:
            self._run_nested(step, step_id, target, with_values, on_uses)
            return
        outputs = dict(self.uses_outputs.get(target, {}))
        outcome = "success"
        try:
            outputs.update((on_uses(target, with_values) if on_uses else None) or {})
        except UsesFailed as failure:
            self.log.append(f"## {step.get('name')} ({target} failed)\n{failure}\n")
            outcome = "failure"
        self.steps[step_id] = {"outputs": outputs, "outcome": outcome}

    def _run_nested(self, step: dict[str, Any], step_id: str, target: str,
                    with_values: dict[str, str], on_uses: OnUses | None) -> None:
        action_file = self.local_actions[target]
        environ = {**self.environ,
                   **{key: self.substitute(value) for key, value in step.get("env", {}).items()}}
        nested = CompositeRun(
            action_file=action_file, inputs=with_values,
            github={**self.github, "action_path": str(action_file.parent)},
            runner=self.runner, environ=environ, work_dir=self.work_dir,
            uses_outputs=self.uses_outputs, local_actions=self.local_actions, play=self.play)
        self.log.append(f"## {step.get('name')} ({target}, nested)\n")
        nested.run(on_uses)
        self.log.extend(nested.log)
        self.nested[step_id] = nested
        self.steps[step_id] = {"outputs": nested.outputs(),
                               "outcome": "failure" if nested.failed else "success"}

    def _run_script(self, step: dict[str, Any], step_id: str) -> None:
        # One file per step of this run: nested runs share work_dir (and $GITHUB_PATH, which
        # lasts for the whole job) but not their step ids.
        handle, name = tempfile.mkstemp(dir=self.work_dir, prefix=f"output-{step_id}-")
        os.close(handle)
        output = Path(name)
        path_file = self.work_dir / "github_path"
        path_file.touch()
        env = dict(self.environ)
        extra_path = [line for line in path_file.read_text(encoding="utf-8").splitlines() if line]
        env["PATH"] = os.pathsep.join([*reversed(extra_path), env.get("PATH", "")])
        env.update({"GITHUB_OUTPUT": str(output), "GITHUB_PATH": str(path_file),
                    "GITHUB_ACTION_PATH": str(self.action_file.parent),
                    "GITHUB_WORKSPACE": self.github["workspace"],
                    "RUNNER_TEMP": self.runner["temp"], "RUNNER_OS": self.runner["os"]})
        env.update({key: self.substitute(value) for key, value in step.get("env", {}).items()})
        directory = step.get("working-directory", self.default_working_directory)
        cwd = Path(self.github["workspace"]) / self.substitute(directory)  # absolute wins
        # A step without `shell:` (workflows only) gets GitHub's default, `bash -e {0}`.
        shell = (["bash", "--noprofile", "--norc", "-eo", "pipefail"] if "shell" in step
                 else ["bash", "-e"])
        done = subprocess.run([*shell, "-c", step["run"]], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=1800)
        self.log.append(f"## {step.get('name')} (exit {done.returncode})\n{done.stdout}"
                        f"{done.stderr}")
        outcome = "success" if done.returncode == 0 else "failure"
        self.steps[step_id] = {"outputs": parse_github_output(output.read_text(encoding="utf-8")),
                               "outcome": outcome}

    def _action(self) -> dict[str, Any]:
        # Read once: outputs() must see the steps that ran, even if the file changes meanwhile.
        if self._parsed is None:
            self._parsed = yaml.safe_load(self.action_file.read_text(encoding="utf-8"))
        return self._parsed

    def outputs(self) -> dict[str, str]:
        action = self._action()
        return {name: self.substitute(spec["value"])
                for name, spec in action.get("outputs", {}).items()}
