"""The install step of the composite actions, for real: a venv with ci-toolkit built from this
checkout (as `${{ github.action_path }}` holds it), put on the next steps' PATH.

Installing rasa itself is the same code with one more requirement (see the install plan tests
in tests/unit/test_action_helpers.py); it is left out here because it takes minutes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_install_without_rasa_makes_a_working_ci_toolkit(tmp_path: Path) -> None:
    output, path_file = tmp_path / "github_output", tmp_path / "github_path"
    output.touch()
    path_file.touch()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CI_TOOLKIT_", "GITHUB_"))}
    environ.update(GITHUB_ACTIONS="true", GITHUB_OUTPUT=str(output), GITHUB_PATH=str(path_file),
                   RUNNER_TEMP=str(tmp_path / "runner-temp"), PIP_DISABLE_PIP_VERSION_CHECK="1")
    done = subprocess.run(
        [sys.executable, "-m", "ci_toolkit.action_helpers", "install", "--without-rasa"],
        cwd=REPO_ROOT, env=environ, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "::group::" in done.stdout  # pip's output is folded in the log

    bin_dir = tmp_path / "runner-temp" / "ci-toolkit" / "venv-toolkit" / "bin"
    assert path_file.read_text(encoding="utf-8") == f"{bin_dir}\n"
    written = output.read_text(encoding="utf-8")
    assert f"ci_toolkit={bin_dir / 'ci-toolkit'}\n" in written
    assert "rasa=\n" in written

    version = subprocess.run([str(bin_dir / "ci-toolkit"), "--version"], capture_output=True,
                             text=True, timeout=60)
    assert version.returncode == 0 and "ci-toolkit, version" in version.stdout
    # The shipped templates came along: scaffold can find them in the installed wheel.
    found = subprocess.run([str(bin_dir / "python"), "-c",
                            "from ci_toolkit.resources import shipped_path; "
                            "print(shipped_path('templates'))"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert found.returncode == 0, found.stderr
    assert "_bundled" in found.stdout
    assert (Path(found.stdout.strip()) / "workflows" / "assistant-ci.yml.j2").is_file()
