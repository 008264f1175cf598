"""A `helm` stand-in for tests: records its arguments and keeps release history in a file.

No Kubernetes cluster can run on the test machines, so the commands that would need one
are played by a small script put first on PATH. It answers the subcommands ci-toolkit uses
the way helm 3 does:

  helm history REL [--namespace NS] [--kube-context C] --output json
        -> JSON list of {revision, updated, status, chart, app_version, description}
           or "Error: release: not found" and exit 1
  helm status REL ... --output json       -> {"name", "namespace", "version", "info": {"status"}}
  helm upgrade --install REL CHART ...    -> a new revision "deployed"; the last one "superseded"
  helm rollback REL N ...                 -> a new revision that copies N ("Rollback to N")

``FAKE_HELM_FAIL=upgrade`` (or ``rollback``, ``status``, several separated by commas) makes
those subcommands fail as helm does.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

SCRIPT = r'''#!{python}
import json, os, sys
state_path = os.environ["FAKE_HELM_STATE"]
with open(state_path) as handle:
    state = json.load(handle)
args = sys.argv[1:]
state["calls"].append(args)

def save():
    with open(state_path, "w") as handle:
        json.dump(state, handle)

def fail(message):
    save()
    print("Error: " + message, file=sys.stderr)
    sys.exit(1)

command = args[0] if args else ""
positional = [a for i, a in enumerate(args[1:], 1)
              if not a.startswith("-") and not args[i - 1] in (
                  "--namespace", "--kube-context", "--output", "--timeout", "--version",
                  "--values", "--set", "--set-string")]
if command in os.environ.get("FAKE_HELM_FAIL", "").split(","):
    fail("UPGRADE FAILED: context deadline exceeded" if command == "upgrade"
         else "timed out waiting for the condition")
releases = state["releases"]
if command in ("history", "status"):
    history = releases.get(positional[0])
    if not history:
        fail("release: not found")
    if command == "history":
        print(json.dumps(history))
    else:
        latest = history[-1]
        print(json.dumps({{"name": positional[0], "namespace": "default",
                          "version": latest["revision"], "info": {{"status": latest["status"]}}}}))
    save()
    sys.exit(0)
if command == "upgrade":
    release, chart = positional[0], positional[1]
    history = releases.setdefault(release, [])
    for entry in history:
        if entry["status"] == "deployed":
            entry["status"] = "superseded"
    history.append({{"revision": len(history) + 1, "updated": "2026-01-01T00:00:00Z",
                    "status": "deployed", "chart": os.path.basename(chart.rstrip("/")),
                    "app_version": "3.6.21",
                    "description": "Upgrade complete" if history else "Install complete"}})
    print('Release "%s" has been upgraded. Happy Helming!' % release)
    save()
    sys.exit(0)
if command == "rollback":
    release, target = positional[0], int(positional[1])
    history = releases.get(release) or []
    if not any(entry["revision"] == target for entry in history):
        fail("release has no %d version" % target)
    for entry in history:
        if entry["status"] == "deployed":
            entry["status"] = "superseded"
    history.append({{"revision": len(history) + 1, "updated": "2026-01-01T00:00:00Z",
                    "status": "deployed", "chart": history[-1]["chart"],
                    "app_version": "3.6.21", "description": "Rollback to %d" % target}})
    print("Rollback was a success! Happy Helming!")
    save()
    sys.exit(0)
fail("unknown command %r for the helm stand-in" % command)
'''


class FakeHelm:
    """The stand-in's files: ``executable`` to put on PATH, and its state."""

    def __init__(self, directory: Path,
                 releases: dict[str, list[dict[str, Any]]] | None = None) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.executable = directory / "helm"
        self.state_file = directory / "helm-state.json"
        self.executable.write_text(SCRIPT.format(python=sys.executable), encoding="utf-8")
        self.executable.chmod(self.executable.stat().st_mode | stat.S_IXUSR)
        self.state_file.write_text(json.dumps({"calls": [], "releases": releases or {}}))

    def env(self) -> dict[str, str]:
        """Environment for a process that should find this helm first on PATH."""
        return {"FAKE_HELM_STATE": str(self.state_file),
                "PATH": f"{self.executable.parent}{os.pathsep}{os.environ.get('PATH', '')}"}

    @property
    def state(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.state_file.read_text())
        return loaded

    @property
    def calls(self) -> list[list[str]]:
        return list(self.state["calls"])

    def history(self, release: str) -> list[dict[str, Any]]:
        return list(self.state["releases"].get(release, []))


def deployed(*revisions: str) -> list[dict[str, Any]]:
    """A release history: one entry per status, e.g. deployed("superseded", "deployed")."""
    return [{"revision": number, "updated": "2025-12-01T00:00:00Z", "status": status,
             "chart": "assistant-0.1.0", "app_version": "3.6.21", "description": "Upgrade complete"}
            for number, status in enumerate(revisions, start=1)]
