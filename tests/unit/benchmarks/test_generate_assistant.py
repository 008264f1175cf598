"""The benchmark's generated assistant is the same for the same seed, and well formed."""

from __future__ import annotations

from pathlib import Path

import yaml

from benchmarks.generate_assistant import generate


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_same_seed_same_assistant_and_every_intent_is_answered(tmp_path: Path) -> None:
    count = generate(tmp_path / "a", intents=30, examples=5, seed=3, epochs=2)
    generate(tmp_path / "b", intents=30, examples=5, seed=3, epochs=2)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    generate(tmp_path / "c", intents=30, examples=5, seed=4, epochs=2)
    assert _files(tmp_path / "a") != _files(tmp_path / "c")

    domain = yaml.safe_load((tmp_path / "a" / "domain.yml").read_text())
    nlu = yaml.safe_load((tmp_path / "a" / "data" / "nlu.yml").read_text())["nlu"]
    assert count == 30 * 5 + 10 == sum(len(i["examples"].splitlines()) for i in nlu)
    assert {i["intent"] for i in nlu} == set(domain["intents"])
    assert all(f"utter_{intent}" in domain["responses"] for intent in domain["intents"])
    assert "epochs: 2" in (tmp_path / "a" / "config.yml").read_text()
