from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci_toolkit.pipeline.cache import SIGNATURE, StageCache, _signed_bytes
from ci_toolkit.pipeline.cache_key import CacheKey

KEY = CacheKey(b"k" * 32, "a test key")


@pytest.fixture
def cache(tmp_path: Path) -> tuple[StageCache, list[str]]:
    warnings: list[str] = []
    return StageCache(tmp_path / "cache", key=KEY, warn=warnings.append), warnings


def _store(cache: StageCache, tmp_path: Path) -> Path:
    source = tmp_path / "intent_report.json"
    source.write_text('{"accuracy": 1.0}')
    cache.store("test_nlu", "abc", duration_s=12.5, data={"nlu": {"x": 1}},
                files={"nlu/intent_report.json": source})
    return tmp_path / "cache" / "stages" / "test_nlu" / "abc"


def _edit_manifest(entry_dir: Path, edit, *, resign: bool = True) -> None:
    """Edit a manifest; re-signed with the cache's key, as a buggy writer with the key would
    leave it (so the checks behind the signature are reached), or left as edited."""
    path = entry_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    if resign:
        manifest[SIGNATURE] = KEY.sign(_signed_bytes(manifest))
    path.write_text(json.dumps(manifest))


def test_round_trip(cache, tmp_path: Path) -> None:
    store, warnings = cache
    _store(store, tmp_path)
    entry = store.load("test_nlu", "abc")
    assert entry is not None and entry.duration_s == 12.5 and entry.data == {"nlu": {"x": 1}}
    assert entry.files["nlu/intent_report.json"].read_text() == '{"accuracy": 1.0}'
    assert store.load("test_nlu", "other") is None
    assert warnings == []


@pytest.mark.parametrize("damage, reason", [
    (lambda e: (e / "manifest.json").unlink(), "never completed"),
    (lambda e: (e / "manifest.json").write_text("{"), "never completed"),
    (lambda e: (e / "files" / "nlu" / "intent_report.json").write_text("{}"), "checksum"),
    (lambda e: (e / "files" / "nlu" / "intent_report.json").unlink(), "is missing"),
    (lambda e: _edit_manifest(e, lambda m: m.update(fingerprint="xyz")), "does not describe"),
    (lambda e: _edit_manifest(e, lambda m: m.update(version=1)), "another version"),
    (lambda e: _edit_manifest(e, lambda m: m.pop("duration_s")), "incomplete"),
    (lambda e: _edit_manifest(e, lambda m: m["files"].update({"../../escape.json": "0"})),
     "points outside the entry"),
    (lambda e: _edit_manifest(e, lambda m: m["files"].update({"/etc/passwd": "0"})),
     "points outside the entry"),
])
def test_damaged_entries_are_discarded_never_trusted(cache, tmp_path: Path, damage, reason: str) -> None:
    store, warnings = cache
    entry_dir = _store(store, tmp_path)
    damage(entry_dir)
    assert store.load("test_nlu", "abc") is None
    assert not entry_dir.exists()
    assert len(warnings) == 1 and reason in warnings[0] and "test_nlu" in warnings[0]


def test_only_the_most_recently_used_entries_are_kept(cache, tmp_path: Path) -> None:
    import os

    store, _ = cache
    source = tmp_path / "log"
    source.write_text("x")
    stage_dir = tmp_path / "cache" / "stages" / "validate"
    for index in range(3):
        store.store("validate", f"fp{index}", duration_s=1, data={}, files={"validate.log": source})
        os.utime(stage_dir / f"fp{index}", (index, index))  # fp0 oldest
    store.load("validate", "fp0")  # used again: survives the next pruning
    store.store("validate", "fp3", duration_s=1, data={}, files={"validate.log": source})
    assert sorted(p.name for p in stage_dir.iterdir()) == ["fp0", "fp2", "fp3"]


def test_staging_directories_do_not_count_and_stale_ones_go(cache, tmp_path: Path) -> None:
    import os

    store, _ = cache
    source = tmp_path / "log"
    source.write_text("x")
    stage_dir = tmp_path / "cache" / "stages" / "validate"
    stage_dir.mkdir(parents=True)
    live, crashed = stage_dir / ".fp9-live", stage_dir / ".fp8-crashed"
    live.mkdir()
    crashed.mkdir()
    os.utime(crashed, (0, 0))  # left by a run that crashed long ago
    for index in range(3):
        store.store("validate", f"fp{index}", duration_s=1, data={}, files={"validate.log": source})
    assert sorted(p.name for p in stage_dir.iterdir()) == [".fp9-live", "fp0", "fp1", "fp2"]


def test_a_failed_store_warns_and_leaves_no_entry(cache, tmp_path: Path) -> None:
    store, warnings = cache
    store.store("validate", "fp", duration_s=1, data={},
                files={"validate.log": tmp_path / "not-written"})
    assert store.load("validate", "fp") is None
    assert len(warnings) == 1 and "could not be cached" in warnings[0]
    assert [p.name for p in (tmp_path / "cache" / "stages" / "validate").iterdir()] == []


def _better_numbers(manifest: dict) -> None:
    manifest["data"]["nlu"]["x"] = 2


@pytest.mark.parametrize("edit, reason", [
    # Valid JSON, consistent checksums, other numbers: exactly what a forger writes.
    (_better_numbers, "changed after it was written"),
    (lambda m: m.update(duration_s=1.0), "changed after it was written"),
    (lambda m: m.pop("signature"), "changed after it was written"),
    (lambda m: m.update(signature="0" * 64), "changed after it was written"),
    (lambda m: m.update(key_id="someone-else"), "another cache key"),
])
def test_an_edited_manifest_is_a_miss_never_trusted(cache, tmp_path: Path, edit, reason) -> None:
    store, warnings = cache
    entry_dir = _store(store, tmp_path)
    _edit_manifest(entry_dir, edit, resign=False)
    assert store.load("test_nlu", "abc") is None
    assert len(warnings) == 1 and reason in warnings[0]


def test_an_entry_signed_with_another_key_is_a_miss_that_says_how_to_share(tmp_path) -> None:
    warnings: list[str] = []
    _store(StageCache(tmp_path / "cache", key=CacheKey(b"other", "x"), warn=print), tmp_path)
    mine = StageCache(tmp_path / "cache", key=KEY, warn=warnings.append)
    assert mine.load("test_nlu", "abc") is None
    assert "another cache key" in warnings[0] and "CI_TOOLKIT_CACHE_KEY" in warnings[0]
    _store(mine, tmp_path)  # rebuilt with this key: a hit from now on
    assert mine.load("test_nlu", "abc") is not None


def test_the_manifest_names_the_key_but_never_holds_it(cache, tmp_path) -> None:
    store, _ = cache
    text = (_store(store, tmp_path) / "manifest.json").read_text()
    assert KEY.key_id in text and "kkkk" not in text and KEY.secret.hex() not in text
