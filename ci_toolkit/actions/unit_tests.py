"""The team's own unit tests of its actions: pytest over the actions package, run with the
action server's interpreter (where rasa-sdk and the actions' dependencies are)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from ci_toolkit import proc
from ci_toolkit.actions.results import CheckResult, Finding
from ci_toolkit.actions.server import SdkEnvironment
from ci_toolkit.gha import without_secrets

LABEL = "action tests"
NAME = "unit tests of the actions package"
_TEST_FILE = re.compile(r"^(test_.*|.*_test)\.py$")
_NO_TESTS_COLLECTED = 5  # pytest's exit code
# pytest's last line, "1 failed, 2 passed in 0.12s" (framed by "=" without -q).
_SUMMARY = re.compile(r"^[=\s]*(.*\b(?:passed|failed|errors?|no tests ran)\b.* in [\d.]+s\b.*?)"
                      r"[=\s]*$")


def unit_test_files(project: Path) -> list[Path]:
    actions = project / "actions"
    if not actions.is_dir():
        return []
    return sorted(path for path in actions.rglob("*.py") if _TEST_FILE.match(path.name))


def _skipped(reason: str) -> CheckResult:
    return CheckResult(name=NAME, kind="unit_tests", status="skipped", reason=reason)


def run_unit_tests(project: Path, sdk: SdkEnvironment | None, *, console: proc.Console,
                   log_file: Path, timeout_s: float = 600.0) -> CheckResult:
    if not unit_test_files(project):
        return _skipped("no test_*.py or *_test.py files under actions/")
    if sdk is None:
        return _skipped("no local interpreter to run them with (the server was given by "
                        "--url; pass --python too)")
    if not sdk.has_pytest:
        return _skipped("pytest not installed in the action server's environment "
                        f"({sdk.python}); add pytest to the actions' requirements to run "
                        "them")
    started = time.monotonic()
    done = proc.run([sdk.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "actions"],
                    label=LABEL, console=console, cwd=project, log_file=log_file,
                    timeout_s=timeout_s, env=without_secrets(os.environ))
    elapsed = time.monotonic() - started
    summary = next((match.group(1) for line in reversed(done.stdout.splitlines())
                    if (match := _SUMMARY.match(line.strip()))), None)
    if done.returncode == 0:
        return CheckResult(name=NAME, kind="unit_tests", status="passed",
                           reason=summary, duration_s=elapsed)
    if done.returncode == _NO_TESTS_COLLECTED:
        return CheckResult(name=NAME, kind="unit_tests", status="skipped",
                           reason="pytest collected no tests under actions/",
                           duration_s=elapsed)
    message = (f"pytest over actions/ failed ({summary or f'exit code {done.returncode}'}). "
               f"Its output is in {log_file}; run `{sdk.python} -m pytest actions` in the "
               "project to see it.")
    return CheckResult(name=NAME, kind="unit_tests", status="failed",
                       findings=(Finding(message),), duration_s=elapsed)
