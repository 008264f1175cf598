"""A directory of stage results keyed by fingerprint, which it never trusts blindly.

Layout: ``<cache>/stages/<stage>/<fingerprint>/{manifest.json, files/...}``. The manifest
is written last, lists every file with its SHA-256 and is signed with an HMAC whose key is
kept outside the cache (ci_toolkit/pipeline/cache_key.py). An entry whose manifest is
missing, unreadable or not signed with this run's key, or whose files do not match it, is
discarded and the stage runs again: an edited manifest is a miss, never trusted.
"""

from __future__ import annotations

import hmac
import json
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ci_toolkit.hashing import file_sha256
from ci_toolkit.pipeline.cache_key import ENV_KEY, CacheKey

MANIFEST = "manifest.json"
# 2: signed. Entries of version 1 carry no signature and are rebuilt once.
MANIFEST_VERSION = 2
SIGNATURE = "signature"
# Entries kept per stage: enough to switch between a few branches without recomputing,
# few enough that a CI cache (actions/cache) does not grow run after run.
KEEP_PER_STAGE = 3
# An entry is built in a hidden staging directory and renamed into place; one older than this
# was left by a run that crashed mid-store (a live store takes seconds to minutes).
STALE_STAGING_S = 24 * 3600


@dataclass(frozen=True)
class CacheEntry:
    stage: str
    fingerprint: str
    duration_s: float
    data: dict[str, Any]
    files: dict[str, Path]  # name in the entry -> path of the cached copy


def _signed_bytes(manifest: Mapping[str, Any]) -> bytes:
    """The manifest as the signature covers it: everything but the signature, canonical."""
    unsigned = {key: value for key, value in manifest.items() if key != SIGNATURE}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode("utf-8")


class StageCache:
    def __init__(self, root: Path, *, key: CacheKey, warn: Any = print) -> None:
        self.root = root
        self.key = key
        self._warn = warn

    def _entry_dir(self, stage: str, fingerprint: str) -> Path:
        return self.root / "stages" / stage / fingerprint

    def load(self, stage: str, fingerprint: str) -> CacheEntry | None:
        """The verified entry, or None (a miss) if there is none or it cannot be trusted."""
        entry_dir = self._entry_dir(stage, fingerprint)
        if not entry_dir.exists():
            return None
        try:
            manifest, problem = self._verified(entry_dir, stage, fingerprint)
        except OSError as error:
            manifest, problem = {}, f"it could not be read: {error}"
        if problem:
            self.discard(stage, fingerprint, problem)
            return None
        entry_dir.touch()  # recently used entries survive pruning
        return CacheEntry(
            stage=stage,
            fingerprint=fingerprint,
            duration_s=float(manifest["duration_s"]),
            data=manifest["data"],
            files={name: entry_dir / "files" / name for name in manifest["files"]},
        )

    def discard(self, stage: str, fingerprint: str, problem: str) -> None:
        self._warn(f"The cached result of {stage} is unusable ({problem}); "
                   "it was discarded and the stage runs again.")
        shutil.rmtree(self._entry_dir(stage, fingerprint), ignore_errors=True)

    def _signature_problem(self, manifest: dict[str, Any]) -> str | None:
        if manifest.get("key_id") != self.key.key_id:
            return (f"it was signed with another cache key, from another machine or job; set "
                    f"{ENV_KEY} to the same secret everywhere to share entries")
        signature = manifest.get(SIGNATURE)
        if not isinstance(signature, str) or not hmac.compare_digest(
                signature, self.key.sign(_signed_bytes(manifest))):
            return "its manifest was changed after it was written"
        return None

    def _verified(self, entry_dir: Path, stage: str,
                  fingerprint: str) -> tuple[dict[str, Any], str | None]:
        """The manifest, read once, and what is wrong with the entry (None: nothing)."""
        try:
            manifest = json.loads((entry_dir / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}, "no readable manifest: the entry was never completed"
        if not isinstance(manifest, dict) or manifest.get("version") != MANIFEST_VERSION:
            return {}, "it was written by another version of ci-toolkit"
        return manifest, (self._signature_problem(manifest)
                          or self._content_problem(manifest, entry_dir, stage, fingerprint))

    @staticmethod
    def _content_problem(manifest: dict[str, Any], entry_dir: Path, stage: str,
                         fingerprint: str) -> str | None:
        if manifest.get("stage") != stage or manifest.get("fingerprint") != fingerprint:
            return "the manifest does not describe this entry"
        if not (isinstance(manifest.get("files"), dict)
                and isinstance(manifest.get("data"), dict)
                and isinstance(manifest.get("duration_s"), (int, float))):
            return "the manifest is incomplete"
        for name, expected in manifest["files"].items():
            relative = PurePosixPath(name)
            if relative.is_absolute() or ".." in relative.parts:
                return f"{name} points outside the entry"
            path = entry_dir / "files" / name
            if not path.is_file():
                return f"{name} is missing"
            if file_sha256(path) != expected:
                return f"{name} does not match its checksum"
        return None

    def store(
        self,
        stage: str,
        fingerprint: str,
        *,
        duration_s: float,
        data: Mapping[str, Any],
        files: Mapping[str, Path],
    ) -> None:
        """Store atomically: build the entry aside, then move it into place. A failure (a
        full disk, say) costs only the entry: the stage's own result stands."""
        try:
            self._store(stage, fingerprint, {"duration_s": duration_s, "data": dict(data)},
                        files)
        except OSError as error:
            self._warn(f"The result of {stage} could not be cached ({error}); "
                       "the next run will run it again.")

    def _store(self, stage: str, fingerprint: str, record: dict[str, Any],
               files: Mapping[str, Path]) -> None:
        final = self._entry_dir(stage, fingerprint)
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{fingerprint[:12]}-", dir=final.parent))
        try:
            checksums = {}
            for name, source in files.items():
                target = staging / "files" / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
                checksums[name] = file_sha256(target)
            manifest = {
                "version": MANIFEST_VERSION,
                "stage": stage,
                "fingerprint": fingerprint,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                **record,
                "files": checksums,
                "key_id": self.key.key_id,
            }
            manifest[SIGNATURE] = self.key.sign(_signed_bytes(manifest))
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
            shutil.rmtree(final, ignore_errors=True)
            staging.rename(final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.prune(stage)

    def prune(self, stage: str, keep: int = KEEP_PER_STAGE) -> None:
        """Drop all but the ``keep`` most recently used entries of a stage."""
        stage_dir = self.root / "stages" / stage
        now = time.time()
        entries = []
        for path in stage_dir.iterdir():
            if not path.is_dir():
                continue
            if path.name.startswith("."):  # staging: maybe another run's store in progress
                if now - path.stat().st_mtime > STALE_STAGING_S:
                    shutil.rmtree(path, ignore_errors=True)
                continue
            entries.append(path)
        entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in entries[keep:]:
            shutil.rmtree(stale, ignore_errors=True)
