"""Run the real `ci-toolkit` CLI (a subprocess, as users run it) on a project copy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.rasa_support import rasa_executable

# The cold run's cross-validation (conftest.py `full_run`): two folds, the fewest rasa
# allows. A rerun must pass the same options to find its entries in the cache (they are
# part of each stage's fingerprint).
CROSS_VALIDATION = ("--cross-validation", "--folds", "2")


@dataclass(frozen=True)
class CliRun:
    exit_code: int
    output: str  # stdout and stderr
    stdout: str  # the result table
    report: dict[str, Any] | None

    def stage(self, name: str) -> dict[str, Any]:
        assert self.report is not None, self.output[-3000:]
        return next(s for s in self.report["stages"] if s["name"] == name)

    def ran(self) -> set[str]:
        """Stages that really ran rasa in this run (not restored, not skipped)."""
        assert self.report is not None, self.output[-3000:]
        return {s["name"] for s in self.report["stages"]
                if s["status"] != "skipped" and not s["cached"]}

    def cached(self) -> set[str]:
        assert self.report is not None, self.output[-3000:]
        return {s["name"] for s in self.report["stages"] if s["cached"]}


def ci_toolkit(project: Path, *args: str, env: dict[str, str] | None = None) -> CliRun:
    environment = {**os.environ, "CI_TOOLKIT_RASA": rasa_executable(), **(env or {})}
    environment.pop("GITHUB_ACTIONS", None)
    done = subprocess.run(
        [sys.executable, "-m", "ci_toolkit.cli", "run", str(project), *args],
        capture_output=True, text=True, env=environment, timeout=1800,
    )
    report_path = project / "reports" / "report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    return CliRun(exit_code=done.returncode, output=done.stdout + done.stderr, stdout=done.stdout,
                  report=report)
