"""One job of a workflow, run step by step as GitHub's runner would, for tests.

`run_job` reads `jobs.<id>` of a workflow file (its `env`, `defaults.run.working-directory`,
`steps` and `outputs`) and runs the steps with composite_runner.CompositeRun: `run:` steps
for real, this repository's own composite actions nested, step by step.

The actions GitHub owns (checkout, cache, upload/download-artifact) and the `gh` CLI are
GitHub's code and cannot run here; `GitHubEmulation` plays their effect, minimally:

- checkout copies a source tree into the workspace;
- actions/cache restores what actions/cache/save stored (exact key, else the newest entry
  under a restore key), paths kept relative to the workspace as the real action does;
  the post-job save of actions/cache is not played (a pull request's cache is visible to
  that pull request only);
- upload-artifact stores files under the run's id and registers the artifact with the fake
  GitHub; download-artifact copies them out again;
- `gh api ENDPOINT --jq FILTER` is a small script on PATH: it GETs ENDPOINT from the fake
  GitHub (GITHUB_API_URL) with GH_TOKEN, as gh does, and applies FILTER with jq.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.fakes.github_server import FakeGitHub
from tests.integration.composite_runner import CompositeRun, OnUses, UsesFailed

REPO_ROOT = Path(__file__).resolve().parents[2]

# The `gh` of the runner image, reduced to `gh api ENDPOINT [--jq FILTER]`.
GH_SCRIPT = '''
import json, os, subprocess, sys, urllib.error, urllib.request
args = sys.argv[1:]
if len(args) < 2 or args[0] != "api":
    sys.exit(f"gh (test double): only `gh api ENDPOINT [--jq FILTER]` is played, not {args}")
token = os.environ.get("GH_TOKEN") or os.environ.get("GITHUB_TOKEN")
if not token:
    sys.exit("gh: To use GitHub CLI in a GitHub Actions workflow, set the GH_TOKEN "
             "environment variable.")
request = urllib.request.Request(
    os.environ["GITHUB_API_URL"] + "/" + args[1].lstrip("/"),
    headers={"Authorization": f"token {token}", "User-Agent": "GitHub CLI",
             "Accept": "application/vnd.github+json"})
try:
    with urllib.request.urlopen(request, timeout=30) as answer:
        body = answer.read().decode("utf-8")
except urllib.error.HTTPError as error:
    message = json.loads(error.read() or b"{}").get("message", "")
    sys.exit(f"gh: {message} (HTTP {error.code})")
if "--jq" in args:
    done = subprocess.run(["jq", "-r", args[args.index("--jq") + 1]], input=body, text=True)
    sys.exit(done.returncode)
print(body)
'''


def install_gh(directory: Path) -> Path:
    """The `gh` test double, in DIRECTORY (put it first on PATH)."""
    if shutil.which("jq") is None:
        raise RuntimeError("jq is not installed (apt-get install jq): the `gh` test double "
                           "applies --jq filters with it.")
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "gh"
    script.write_text(f"#!{sys.executable}\n{GH_SCRIPT}", encoding="utf-8")
    script.chmod(0o755)
    return directory


def _files(root: Path) -> list[Path]:
    return [path for path in sorted(root.rglob("*")) if path.is_file()] if root.is_dir() \
        else [root] if root.is_file() else []


def _copy_into(source: Path, destination: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, destination, dirs_exist_ok=True, symlinks=True)
    else:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)


@dataclass
class GitHubEmulation:
    """The effect of GitHub's own actions in one job (see the module's docstring)."""

    workspace: Path
    source: Path  # what actions/checkout checks out
    caches: Path  # actions/cache entries: caches/<key>/<path relative to the workspace>
    artifacts: Path  # artifacts/<run id>/<name>/...
    fake: FakeGitHub | None
    run_id: int
    head_branch: str
    head_sha: str
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def on_uses(self, target: str, with_values: dict[str, str]) -> dict[str, str] | None:
        self.calls.append((target, with_values))
        handler = {"actions/checkout": self._checkout, "actions/cache": self._restore,
                   "actions/cache/save": self._save,
                   "actions/upload-artifact": self._upload,
                   "actions/download-artifact": self._download}.get(target)
        return handler(with_values) if handler else None

    def with_values(self, target: str) -> list[dict[str, str]]:
        return [values for name, values in self.calls if name == target]

    def _checkout(self, values: dict[str, str]) -> None:
        shutil.copytree(self.source, self.workspace, dirs_exist_ok=True, symlinks=True)

    def _paths(self, values: dict[str, str]) -> list[Path]:
        """The `path:` lines inside the workspace, relative to it (the pip cache, outside,
        is left alone: it only makes installs faster)."""
        paths = []
        for line in values["path"].splitlines():
            path = Path(line.strip())
            if line.strip() and (self.workspace / path).resolve().is_relative_to(self.workspace):
                paths.append((self.workspace / path).resolve().relative_to(self.workspace))
        return paths

    def _restore(self, values: dict[str, str]) -> dict[str, str]:
        entry = self.caches / values["key"]
        hit = entry.is_dir()
        if not hit:
            prefixes = [line.strip() for line in values.get("restore-keys", "").splitlines()]
            candidates = [path for path in self.caches.glob("*") if any(
                prefix and path.name.startswith(prefix) for prefix in prefixes)]
            entry = max(candidates, key=lambda path: path.stat().st_mtime, default=entry)
        if entry.is_dir():
            for relative in self._paths(values):
                if (entry / relative).exists():
                    _copy_into(entry / relative, self.workspace / relative)
        return {"cache-hit": "true" if hit else "false"}

    def _save(self, values: dict[str, str]) -> None:
        entry = self.caches / values["key"]
        if entry.exists():  # GitHub keeps the first entry of a key and warns
            return
        for relative in self._paths(values):
            if (self.workspace / relative).exists():
                _copy_into(self.workspace / relative, entry / relative)

    def _upload(self, values: dict[str, str]) -> None:
        roots = [self.workspace / line.strip() for line in values["path"].splitlines()
                 if line.strip()]
        files = [path for root in roots for path in _files(root)]
        if not files:
            if values.get("if-no-files-found", "warn") == "error":
                raise UsesFailed(f"No files were found with the provided path: {values['path']}")
            return
        # The artifact holds the files relative to their least common ancestor.
        common = Path(os.path.commonpath([path.parent for path in files]))
        stored = self.artifacts / str(self.run_id) / values["name"]
        for path in files:
            _copy_into(path, stored / path.relative_to(common))
        if self.fake is not None:
            self.fake.add_artifact(values["name"], self.run_id, self.head_branch,
                                   self.head_sha)

    def _download(self, values: dict[str, str]) -> None:
        stored = self.artifacts / values["run-id"] / values["name"]
        if not stored.is_dir():
            raise UsesFailed(f"Artifact not found for name: {values['name']}")
        _copy_into(stored, Path(values["path"]))


@dataclass
class JobRun:
    run: CompositeRun
    outputs: dict[str, str]

    @property
    def failed(self) -> bool:
        return self.run.failed

    def log(self) -> str:
        return "\n".join(self.run.log)


def runner_environ(github: Mapping[str, str], base: Mapping[str, str]) -> dict[str, str]:
    """BASE without the caller's CI variables, plus the GITHUB_* variables the runner sets
    for every step (docs.github.com, "Default environment variables")."""
    environ = {key: value for key, value in base.items()
               if not key.startswith(("CI_TOOLKIT_", "GITHUB_", "RUNNER_"))}
    names = {"repository": "GITHUB_REPOSITORY", "repository_id": "GITHUB_REPOSITORY_ID",
             "event_name": "GITHUB_EVENT_NAME", "event_path": "GITHUB_EVENT_PATH",
             "sha": "GITHUB_SHA", "ref": "GITHUB_REF", "ref_name": "GITHUB_REF_NAME",
             "base_ref": "GITHUB_BASE_REF", "head_ref": "GITHUB_HEAD_REF",
             "api_url": "GITHUB_API_URL", "server_url": "GITHUB_SERVER_URL",
             "run_id": "GITHUB_RUN_ID", "workspace": "GITHUB_WORKSPACE"}
    environ.update({variable: github[key] for key, variable in names.items() if key in github})
    environ["GITHUB_ACTIONS"] = "true"
    return environ


def run_job(workflow: Path, job_id: str, *, github: dict[str, str], runner: dict[str, str],
            environ: dict[str, str], work_dir: Path, on_uses: OnUses,
            local_actions: Mapping[str, Path],
            uses_outputs: Mapping[str, dict[str, str]] | None = None,
            play: Callable[[CompositeRun, dict[str, Any], str], bool] | None = None) -> JobRun:
    """Run `jobs.JOB_ID` of WORKFLOW; GITHUB and RUNNER are the expression contexts."""
    job = yaml.safe_load(workflow.read_text(encoding="utf-8"))["jobs"][job_id]
    run = CompositeRun(
        action_file=workflow, inputs={}, github=github, runner=runner,
        environ={**environ, **{key: str(value) for key, value in job.get("env", {}).items()}},
        work_dir=work_dir, uses_outputs=uses_outputs or {},
        default_working_directory=job.get("defaults", {}).get("run", {}).get(
            "working-directory", ""),
        local_actions=local_actions, play=play)
    run.run_steps(job["steps"], on_uses)
    outputs = {name: run.substitute(value) for name, value in job.get("outputs", {}).items()}
    return JobRun(run, outputs)
