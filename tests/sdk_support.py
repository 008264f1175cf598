"""The action-server environment with a rasa-sdk that has gRPC and domain caching (3.9 and
later), for the contract tests that need them; the rasa environment keeps rasa 3.6's
rasa-sdk 3.6.x. Only tests marked `rasa` may use it (the same rule as tests/rasa_support.py).
"""

from __future__ import annotations

import os
import subprocess
from functools import lru_cache

from tests.rasa_support import REPO_ROOT, rasa_executable


def sdk39_python() -> str:
    """The python of $CI_TOOLKIT_RASA_SDK_PYTHON, else of the environment that
    scripts/setup-rasa-sdk.sh makes (once, about a minute and 90 MB)."""
    rasa_executable()  # the same marker rule
    return os.environ.get("CI_TOOLKIT_RASA_SDK_PYTHON") or _setup_sdk()


@lru_cache(maxsize=1)
def _setup_sdk() -> str:
    done = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "setup-rasa-sdk.sh")],
                          check=True, capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]
