"""Find the files that ship with the toolkit: workflow templates, docker/, charts/.

In a source checkout (and in the composite actions, which run from one) they sit at the
repository root. In an installed wheel they are bundled under ``ci_toolkit/_bundled``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_BUNDLED = _PACKAGE_DIR / "_bundled"
_SOURCE_ROOT = _PACKAGE_DIR.parent


def shipped_path(name: str) -> Path:
    """Return the directory of a shipped resource: ``templates``, ``docker`` or ``charts``."""
    for root in (_BUNDLED, _SOURCE_ROOT):
        candidate = root / name
        if candidate.exists():
            return candidate
    raise FileNotFoundError(
        f"ci-toolkit's own '{name}' directory is missing from this installation "
        f"(looked in {_BUNDLED} and {_SOURCE_ROOT}). Reinstall ci-toolkit."
    )


def package_template_dir() -> Path:
    """Templates that belong to the package itself (summary Markdown, HTML report)."""
    return _PACKAGE_DIR / "templates"
