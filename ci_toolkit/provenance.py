"""Which commit of assistant-ci this ci-toolkit was built from.

`ci-toolkit scaffold` pins the workflows it writes to the actions of that same commit, so that
the workflows and the toolkit that wrote them are one version. The release workflow records
the commit in the wheel (``ci_toolkit/_source_commit``); running from a checkout, git says.
Standard library only.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from ci_toolkit import __version__

RECORDED = Path(__file__).with_name("_source_commit")
_SHA = re.compile(r"^[0-9a-f]{40}$")


def release_tag() -> str:
    """The tag of this version (`v0.1.0`), as the release workflow names it."""
    return f"v{__version__}"


def major_tag() -> str:
    """The tag that moves with every release of this major version (`v0`)."""
    return f"v{__version__.split('.')[0]}"


def source_commit() -> str | None:
    """The commit this ci-toolkit was built from, or None when it cannot be known."""
    if RECORDED.is_file():
        recorded = RECORDED.read_text(encoding="utf-8").strip()
        return recorded if _SHA.match(recorded) else None
    checkout = Path(__file__).resolve().parent.parent
    if not (checkout / ".git").exists():
        return None
    try:
        done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"],
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and _SHA.match(commit) else None
