"""Whether a workflow's expensive jobs run, and why: the first job of the scaffolded
cross-validation and config-comparison workflows.

A workflow-level `paths:` filter cannot be OR-ed with a label, so these workflows start on
every pull request (and on `labeled`) and this decides:

  schedule            run (reason: schedule)
  workflow_dispatch   run (reason: manual)
  pull_request        run when the label is on it (reason: label), else when a changed file
                      matches a watched path (reason: paths, with the first such file), else
                      not (reason: none). A `labeled` event runs only for the watched label:
                      adding any other label must not start the jobs a second time.

    python -m ci_toolkit.trigger decide [--write-configs DIR]

(--write-configs also reads CI_TOOLKIT_TRIGGER_CONFIGS_DIR.)

The composite action matrix/decide runs it with the interpreter actions/setup-python gives,
before anything is installed: like action_helpers, it imports only the standard library and
the standard-library-only ci_toolkit modules (errors, gha).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.escape import code, text
from ci_toolkit.gha import ActionsRuntime, report_error

# Environment variables this module reads (the decide action sets the first four).
ENV_VARS_READ: tuple[str, ...] = (
    "CI_TOOLKIT_TRIGGER_LABEL",
    "CI_TOOLKIT_TRIGGER_PATHS",
    "CI_TOOLKIT_CONFIGURATION",
    "CI_TOOLKIT_TRIGGER_CONFIGS_DIR",
    "GITHUB_EVENT_NAME",
    "GITHUB_EVENT_PATH",
    "GITHUB_WORKSPACE",
)
OUTPUTS: tuple[str, ...] = ("run", "reason", "detail")
EVENTS = ("pull_request", "schedule", "workflow_dispatch")
# The names the compare shards read: rasa names a config's results after its file name.
BASE_CONFIG, HEAD_CONFIG = "base.yml", "pull-request.yml"


@dataclass(frozen=True)
class Decision:
    run: bool
    reason: str  # label, paths, every-pull-request, schedule, manual or none
    detail: str = ""  # the label, the first watched file that changed, or why not

    def outputs(self) -> dict[str, str]:
        return {"run": "true" if self.run else "false", "reason": self.reason,
                "detail": self.detail}


@dataclass(frozen=True)
class PullRequest:
    action: str
    labels: tuple[str, ...]
    added_label: str | None  # the label of a `labeled` event
    base_sha: str
    head_sha: str


# --- the event --------------------------------------------------------------------------------


def read_event(path: str | None) -> dict[str, object]:
    """The event payload the runner wrote; UsageError when it is missing or not JSON."""
    if not path:
        raise UsageError("GITHUB_EVENT_PATH is not set: the decision reads the event "
                         "payload, so it runs inside a GitHub Actions job.")
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"The event payload {path} cannot be read "
                         f"({error.strerror or error}).") from error
    except ValueError as error:
        raise UsageError(f"The event payload {path} is not valid JSON ({error}).") from error
    if not isinstance(event, dict):
        raise UsageError(f"The event payload {path} is not a JSON object.")
    return event


def _field(data: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            raise UsageError(f"The pull_request event payload has no {'.'.join(keys)}: it is "
                             "not a payload GitHub writes for pull_request events.")
        data = data[key]
    return data


def _text(data: object, *keys: str) -> str:
    value = _field(data, *keys)
    if not isinstance(value, str) or not value:
        raise UsageError(f"The pull_request event payload's {'.'.join(keys)} is not a "
                         "non-empty string.")
    return value


def pull_request_of(event: Mapping[str, object]) -> PullRequest:
    """The parts of a pull_request payload the decision needs; UsageError when one is not
    there or has the wrong type."""
    labels = _field(event, "pull_request", "labels")
    if not isinstance(labels, list) or not all(
            isinstance(label, dict) and isinstance(label.get("name"), str) for label in labels):
        raise UsageError("The pull_request event payload's pull_request.labels is not a list "
                         "of labels with names.")
    action = _text(event, "action")
    added = _text(event, "label", "name") if action == "labeled" else None
    return PullRequest(action=action, labels=tuple(label["name"] for label in labels),
                       added_label=added, base_sha=_text(event, "pull_request", "base", "sha"),
                       head_sha=_text(event, "pull_request", "head", "sha"))


# --- watched paths, as GitHub's `paths:` filters match them ---------------------------------


def glob_regex(pattern: str) -> re.Pattern[str]:
    """GitHub's filter pattern syntax: `*` matches within a path segment, `**` across them,
    `?` one character, `[...]` a character class; everything else is literal."""
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            parts.append(".*")
            index += 2
        elif pattern[index] == "*":
            parts.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            parts.append("[^/]")
            index += 1
        elif pattern[index] == "[" and "]" in pattern[index + 1:]:
            end = pattern.index("]", index + 1)
            parts.append("[" + re.escape(pattern[index + 1:end]).replace("\\-", "-") + "]")
            index = end + 1
        else:
            parts.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(parts) + r"\Z")


def watched(path: str, patterns: Sequence[str]) -> bool:
    """Whether ``path`` is watched: the last pattern that matches it decides, and a pattern
    starting with `!` excludes what it matches (GitHub's rule)."""
    selected = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if glob_regex(pattern[1:] if negated else pattern).match(path):
            selected = not negated
    return selected


def parse_patterns(text: str) -> list[str]:
    """One pattern a line (blank lines and `#` comments left out)."""
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


# --- the decision ----------------------------------------------------------------------------

ChangedFiles = Callable[[PullRequest], Sequence[str]]


def decide(event_name: str, event: Mapping[str, object], *, label: str,
           patterns: Sequence[str], changed_files: ChangedFiles) -> Decision:
    """Run or not, and why. ``changed_files`` is asked only when no label decides."""
    if event_name == "schedule":
        return Decision(True, "schedule")
    if event_name == "workflow_dispatch":
        return Decision(True, "manual")
    if event_name != "pull_request":
        raise UsageError(f"The event {event_name or '(none)'} is not one this workflow runs "
                         f"on ({', '.join(EVENTS)}); add no other trigger to it.")
    pull = pull_request_of(event)
    if pull.action == "labeled":
        if label and pull.added_label == label:
            return Decision(True, "label", label)
        return Decision(False, "none", f"the label {pull.added_label!r} is not {label!r}")
    if label and label in pull.labels:
        return Decision(True, "label", label)
    if not patterns:
        return Decision(True, "every-pull-request")
    for path in changed_files(pull):
        if watched(path, patterns):
            return Decision(True, "paths", path)
    return Decision(False, "none", "no watched path changed and the label is not set")


def _git(argv: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *argv], cwd=cwd, capture_output=True, check=False)
    except OSError as error:
        raise ToolkitError(f"git cannot be run ({error.strerror or error}).") from error


def git_changed_files(repository: Path) -> ChangedFiles:
    """The files a pull request changes, as GitHub lists them: the diff from the merge base
    of its base and head; a rename counts as both of its paths."""
    def changed(pull: PullRequest) -> list[str]:
        done = _git(["diff", "--name-only", "--no-renames", "-z",
                     f"{pull.base_sha}...{pull.head_sha}"], repository)
        if done.returncode != 0:
            raise ToolkitError(
                f"git cannot list the files changed between {pull.base_sha} and "
                f"{pull.head_sha} ({done.stderr.decode(errors='replace').strip()}). Check "
                "out the repository with `fetch-depth: 0`, so both commits are there.")
        return [name for name in done.stdout.decode("utf-8", "replace").split("\0") if name]
    return changed


def write_configs(pull: PullRequest, config: str, repository: Path, out: Path) -> bool:
    """Write the base branch's and the pull request's ``config`` (a path in the repository)
    to ``out`` as base.yml and pull-request.yml; False when the base has no such file."""
    contents = []
    for sha in (pull.base_sha, pull.head_sha):
        if _git(["cat-file", "-e", f"{sha}^{{commit}}"], repository).returncode != 0:
            raise ToolkitError(f"The commit {sha} is not in the checkout: check out the "
                               "repository with `fetch-depth: 0`.")
        shown = _git(["show", f"{sha}:{config}"], repository)
        if shown.returncode != 0:
            if sha == pull.base_sha:
                return False
            raise ToolkitError(f"The pull request's head {sha} has no {config}: scaffold "
                               "again with --config naming the project's configuration.")
        contents.append(shown.stdout)
    out.mkdir(parents=True, exist_ok=True)
    for name, content in zip((BASE_CONFIG, HEAD_CONFIG), contents):
        (out / name).write_bytes(content)
    return True


def summary_markdown(decision: Decision) -> str:
    """One line for the job summary: which trigger fired, or why nothing runs."""
    said = {
        "label": f"the label {code(decision.detail)} is on the pull request",
        "paths": f"a watched path changed (first: {code(decision.detail)})",
        "every-pull-request": "every pull request (no watched paths)",
        "schedule": "the schedule",
        "manual": "a manual run (workflow_dispatch)",
    }
    if decision.run:
        return f"**Triggered by** {said[decision.reason]}."
    return f"**Skipped:** {text(decision.detail)}."


def _decide_here(environ: Mapping[str, str], configs_dir: Path | None) -> Decision:
    repository = Path(environ.get("GITHUB_WORKSPACE") or os.getcwd())
    event_name = environ.get("GITHUB_EVENT_NAME", "")
    event = read_event(environ.get("GITHUB_EVENT_PATH"))
    decision = decide(event_name, event, label=environ.get("CI_TOOLKIT_TRIGGER_LABEL", ""),
                      patterns=parse_patterns(environ.get("CI_TOOLKIT_TRIGGER_PATHS", "")),
                      changed_files=git_changed_files(repository))
    if configs_dir is None or not decision.run:
        return decision
    config = environ.get("CI_TOOLKIT_CONFIGURATION") or "config.yml"
    if event_name != "pull_request":
        raise UsageError("--write-configs compares a pull request's configuration with its "
                         "base branch's: run it on pull_request events only.")
    if not write_configs(pull_request_of(event), config, repository, configs_dir):
        return Decision(False, "none", f"the base branch has no {config} to compare with")
    return decision


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ci_toolkit.trigger",
                                     description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    decider = commands.add_parser("decide", help="decide whether the expensive jobs run")
    decider.add_argument("--write-configs", metavar="DIR", type=Path,
                         help="on a run, write the base's and the pull request's "
                              f"configuration to DIR/{BASE_CONFIG} and DIR/{HEAD_CONFIG}")
    arguments = parser.parse_args(argv)
    environ = dict(os.environ if environ is None else environ)
    configs_dir = arguments.write_configs
    if configs_dir is None and environ.get("CI_TOOLKIT_TRIGGER_CONFIGS_DIR"):
        configs_dir = Path(environ["CI_TOOLKIT_TRIGGER_CONFIGS_DIR"])
    runtime = ActionsRuntime(environ)
    try:
        decision = _decide_here(environ, configs_dir)
        print(f"run: {decision.outputs()['run']} ({decision.reason}) {decision.detail}",
              file=sys.stderr)
        runtime.set_outputs(decision.outputs())
        runtime.append_step_summary(summary_markdown(decision))
    except ToolkitError as error:
        return report_error(error, runtime)
    return 0


if __name__ == "__main__":
    sys.exit(main())
