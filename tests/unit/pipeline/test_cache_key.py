"""Where the key that signs cache manifests comes from (ci_toolkit/pipeline/cache_key.py)."""

from __future__ import annotations

import stat
from pathlib import Path

from ci_toolkit.pipeline.cache_key import ENV_KEY, cache_key


def _key(environ: dict[str, str], warnings: list[str] | None = None):
    return cache_key(environ, warn=(warnings if warnings is not None else []).append)


def test_the_env_var_wins_and_is_the_same_key_everywhere(tmp_path: Path) -> None:
    environ = {ENV_KEY: "s3cret", "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY_ID": "1",
               "XDG_STATE_HOME": str(tmp_path)}
    key = _key(environ)
    assert key.source == ENV_KEY and key.key_id == _key(environ).key_id
    assert key.key_id != _key({**environ, ENV_KEY: "other"}).key_id
    assert not (tmp_path / "ci-toolkit").exists()  # no key file was made


def test_in_actions_the_key_is_derived_from_the_repository_so_ci_caching_works() -> None:
    actions = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY_ID": "123456"}
    # Two fresh runners of the same repository: the same key.
    assert _key(actions).key_id == _key(dict(actions)).key_id
    assert "repository" in _key(actions).source
    assert _key(actions).key_id != _key({**actions, "GITHUB_REPOSITORY_ID": "7"}).key_id


def test_elsewhere_a_private_key_file_is_made_once_and_reused(tmp_path: Path) -> None:
    environ = {"XDG_STATE_HOME": str(tmp_path / "state")}
    first = _key(environ)
    path = tmp_path / "state" / "ci-toolkit" / "cache-key"
    assert first.source == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text().strip()) == 64
    assert _key(environ).key_id == first.key_id
    # Another machine (another state dir): another key, so every entry is a miss there.
    assert _key({"XDG_STATE_HOME": str(tmp_path / "elsewhere")}).key_id != first.key_id


def test_an_empty_key_file_left_by_a_crash_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "ci-toolkit" / "cache-key"
    path.parent.mkdir()
    path.write_text("")
    _key({"XDG_STATE_HOME": str(tmp_path)})
    assert len(path.read_text().strip()) == 64
    assert [p.name for p in path.parent.iterdir()] == ["cache-key"]  # no staging file left


def test_an_unusable_state_dir_gives_a_one_off_key_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("a file where the state directory should be")
    warnings: list[str] = []
    key = _key({"XDG_STATE_HOME": str(tmp_path / "state")}, warnings)
    assert key.source == "a one-off key"
    assert "will not be reused" in warnings[0] and ENV_KEY in warnings[0]
