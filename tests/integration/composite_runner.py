"""A small runner for the composite actions' steps, for tests: what GitHub's runner does with
`inputs`, `env`, `if`, `working-directory`, $GITHUB_OUTPUT and $GITHUB_PATH, for the
expressions our action.yml files use.

`uses:` steps are not run: the test supplies their outputs (setup-python's python-path) or
they do nothing here (actions/cache). Every `run:` step runs for real in bash with `-e`.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_CONTEXT_PATH = re.compile(r"\b(inputs|steps|github|runner)((?:\.[A-Za-z_][\w-]*)+)")


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

    def _contexts(self) -> dict[str, Any]:
        return {
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

    def run(self, on_uses: Callable[[str, dict[str, str]], None] | None = None) -> None:
        action = yaml.safe_load(self.action_file.read_text(encoding="utf-8"))
        for name, spec in action.get("inputs", {}).items():
            default = spec.get("default", "")
            self.inputs.setdefault(name, self.substitute(default) if default else "")
        for index, step in enumerate(action["runs"]["steps"]):
            step_id = step.get("id", f"__step{index}")
            if not self.condition(step):
                self.steps[step_id] = {"outputs": {}, "outcome": "skipped"}
                continue
            if "uses" in step:
                target = step["uses"].split("@", 1)[0]
                with_values = {k: self.substitute(v) for k, v in step.get("with", {}).items()}
                if on_uses:
                    on_uses(target, with_values)
                self.steps[step_id] = {"outputs": dict(self.uses_outputs.get(target, {})),
                                       "outcome": "success"}
                continue
            self._run_script(step, step_id)

    def _run_script(self, step: dict[str, Any], step_id: str) -> None:
        output = self.work_dir / f"output-{step_id}"
        path_file = self.work_dir / "github_path"
        output.write_text("", encoding="utf-8")
        path_file.touch()
        env = dict(self.environ)
        extra_path = [line for line in path_file.read_text(encoding="utf-8").splitlines() if line]
        env["PATH"] = os.pathsep.join([*reversed(extra_path), env.get("PATH", "")])
        env.update({"GITHUB_OUTPUT": str(output), "GITHUB_PATH": str(path_file),
                    "GITHUB_ACTION_PATH": str(self.action_file.parent),
                    "GITHUB_WORKSPACE": self.github["workspace"],
                    "RUNNER_TEMP": self.runner["temp"], "RUNNER_OS": self.runner["os"]})
        env.update({key: self.substitute(value) for key, value in step.get("env", {}).items()})
        cwd = Path(self.substitute(step.get("working-directory", self.github["workspace"])))
        if not cwd.is_absolute():
            cwd = Path(self.github["workspace"]) / cwd
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                               step["run"]], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=1800)
        self.log.append(f"## {step.get('name')} (exit {done.returncode})\n{done.stdout}"
                        f"{done.stderr}")
        outcome = "success" if done.returncode == 0 else "failure"
        self.failed = self.failed or done.returncode != 0
        self.steps[step_id] = {"outputs": parse_github_output(output.read_text(encoding="utf-8")),
                               "outcome": outcome}

    def outputs(self) -> dict[str, str]:
        action = yaml.safe_load(self.action_file.read_text(encoding="utf-8"))
        return {name: self.substitute(spec["value"])
                for name, spec in action.get("outputs", {}).items()}
