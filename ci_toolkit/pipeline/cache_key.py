"""The secret that signs stage-cache manifests, kept outside the cache directory.

A cache manifest lists each file's SHA-256 and the stage's results (metrics, findings).
Checksums alone prove only that the files match the manifest: whoever can write the cache
directory can write a consistent manifest with other numbers. So each manifest is signed
with an HMAC whose key the cache directory does not hold, and an entry whose signature does
not verify is a miss (the stage runs again), never trusted.

Where the key comes from, first match wins:

1. ``CI_TOOLKIT_CACHE_KEY`` (env only, never an option: it is a secret). Set it from a CI
   secret to share cache entries between machines and jobs and to protect them from anyone
   who can write the cache but does not know the secret.
2. In GitHub Actions without that variable: a key derived from the repository's id
   (``GITHUB_REPOSITORY_ID``, set by the runner, not by the workflow or a PR). Runners are
   fresh machines, so a key file (3.) would be new on every run and every entry a miss,
   and the workflows keep the cache between runs with actions/cache. The derived key keeps
   that caching working. The trade-off: the repository id is not secret, so it protects
   against edited, corrupted or foreign entries (a cache restored from another repository
   or written by another tool) but not against someone who writes a cache entry on purpose
   and knows the scheme. GitHub's own cache scoping is the guard there: a pull request
   reads the base branch's caches but writes only its own. Set ``CI_TOOLKIT_CACHE_KEY``
   from a secret for more (fork PRs do not see secrets; their runs then fall back to this
   key, so they can neither read the signed entries nor forge them).
3. Elsewhere: a per-user key file, ``$XDG_STATE_HOME/ci-toolkit/cache-key`` (default
   ``~/.local/state/ci-toolkit/cache-key``), 32 random bytes created with mode 0600 on first
   use. On a fresh machine the key is new, so every existing entry is a miss once and is
   rebuilt. If the file cannot be created (a read-only home), the run uses a one-off key:
   it caches nothing reusable, and says so.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

ENV_KEY = "CI_TOOLKIT_CACHE_KEY"
KEY_FILE = Path("ci-toolkit") / "cache-key"
# Domain separation: the derived key is used for nothing but these manifests.
_DERIVED_PREFIX = b"ci-toolkit stage cache v1, repository "


@dataclass(frozen=True)
class CacheKey:
    secret: bytes
    source: str  # where the key came from, for messages (never the key itself)

    def sign(self, payload: bytes) -> str:
        return hmac.new(self.secret, payload, hashlib.sha256).hexdigest()

    @property
    def key_id(self) -> str:
        """A public name of the key: which key signed an entry, without revealing it."""
        return self.sign(b"key id")[:16]


def _state_dir(environ: Mapping[str, str]) -> Path:
    state = environ.get("XDG_STATE_HOME") or os.environ.get("XDG_STATE_HOME")
    return Path(state) if state else Path.home() / ".local" / "state"


def _read_or_create(path: Path) -> bytes:
    """The key in ``path``; created atomically with mode 0600 when missing or empty."""
    try:
        existing = path.read_bytes().strip()
    except FileNotFoundError:
        existing = b""
    if existing:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, staging = tempfile.mkstemp(dir=path.parent, prefix=".cache-key-")  # mode 0600
    try:
        with os.fdopen(handle, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32) + "\n")
        if path.exists():  # empty: left by a crash; replace it
            os.replace(staging, path)
        else:
            try:
                os.link(staging, path)  # fails if another run created it meanwhile
            except FileExistsError:
                pass
    finally:
        Path(staging).unlink(missing_ok=True)
    return path.read_bytes().strip()


def cache_key(environ: Mapping[str, str], *, warn: Callable[[str], None]) -> CacheKey:
    """The key for this run (see the module docstring for the order)."""
    given = (environ.get(ENV_KEY) or "").strip()
    if given:
        return CacheKey(given.encode("utf-8"), ENV_KEY)
    repository = environ.get("GITHUB_REPOSITORY_ID") or environ.get("GITHUB_REPOSITORY")
    if environ.get("GITHUB_ACTIONS") == "true" and repository:
        derived = hashlib.sha256(_DERIVED_PREFIX + repository.encode("utf-8")).digest()
        return CacheKey(derived, "the repository id (GitHub Actions without "
                                 f"{ENV_KEY})")
    path = _state_dir(environ) / KEY_FILE
    try:
        return CacheKey(_read_or_create(path), str(path))
    except OSError as error:
        warn(f"[cache] the cache key {path} could not be read or created ({error}); this "
             f"run's cache entries will not be reused. Set {ENV_KEY} or make the directory "
             "writable.")
        return CacheKey(secrets.token_bytes(32), "a one-off key")
