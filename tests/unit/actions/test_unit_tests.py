"""The team's own tests under actions/, run with the action server's interpreter (here the
toolkit's own, which has pytest; the rasa environment has none)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

from ci_toolkit.actions.server import SdkEnvironment
from ci_toolkit.actions.unit_tests import run_unit_tests, unit_test_files
from ci_toolkit.proc import Console

WITH_PYTEST = SdkEnvironment(sys.executable, "3.6.2", has_pytest=True)


def _project(tmp_path: Path, tests: dict[str, str]) -> Path:
    (tmp_path / "actions").mkdir()
    (tmp_path / "actions" / "__init__.py").write_text("")
    (tmp_path / "actions" / "actions.py").write_text("def double(x):\n    return 2 * x\n")
    for name, text in tests.items():
        (tmp_path / "actions" / name).write_text(text)
    return tmp_path


def _run(project: Path, sdk: SdkEnvironment | None = WITH_PYTEST):
    return run_unit_tests(project, sdk, console=Console(io.StringIO(), quiet=True),
                          log_file=project / "results" / "unit-tests.log")


def test_passing_tests(tmp_path: Path) -> None:
    project = _project(tmp_path, {"test_double.py": (
        "from actions.actions import double\n\ndef test_double():\n    assert double(2) == 4\n")})
    assert unit_test_files(project) == [project / "actions" / "test_double.py"]
    result = _run(project)
    assert result.status == "passed", result
    assert result.reason is not None and "1 passed" in result.reason


def test_failing_tests(tmp_path: Path) -> None:
    project = _project(tmp_path, {"double_test.py": (
        "from actions.actions import double\n\ndef test_double():\n    assert double(2) == 5\n")})
    result = _run(project)
    assert result.status == "failed"
    [finding] = result.findings
    assert "pytest over actions/ failed (1 failed" in finding.message
    assert "unit-tests.log" in finding.message
    assert "assert 4 == 5" in (project / "results" / "unit-tests.log").read_text()


def test_when_they_are_skipped(tmp_path: Path) -> None:
    assert "no test_*.py" in str(_run(tmp_path).reason)
    project = _project(tmp_path, {"test_nothing.py": "X = 1\n"})
    assert _run(project).status == "skipped"  # pytest collected nothing
    without = SdkEnvironment("/venv/bin/python", "3.6.2", has_pytest=False)
    skipped = _run(project, without)
    assert skipped.status == "skipped"
    assert skipped.reason is not None and skipped.reason.startswith(
        "pytest not installed in the action server's environment (/venv/bin/python)")
    assert "--python" in str(_run(project, None).reason)
