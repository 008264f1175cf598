"""The plot benchmark's section of RESULTS.md: medians, the ratio, and whether the two PNGs
were the same bytes (a difference is written out, never hidden)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.plot_text import HEADING, render_section, section


def _run(rasa_s: float, worker_s: float, same: bool = True) -> dict:
    return {"rasa": {"seconds": rasa_s, "sha256": "a"},
            "worker": {"seconds": worker_s, "sha256": "a" if same else "b"}}


def _record(*runs: dict) -> dict:
    return {"date": "2026-12-01 23:59", "commit": "abc1234", "machine": "2 cores",
            "intents": 200, "runs": list(runs)}


def test_the_section_gives_medians_the_ratio_and_the_same_bytes() -> None:
    lines = render_section(_record(_run(140.0, 70.0), _run(150.0, 80.0), _run(145.0, 75.0)))

    assert lines[0] == HEADING
    assert "40,000 cell labels" in "\n".join(lines)
    assert "| rasa | 145.0 | |" in lines
    assert "| the worker | 75.0 (0.52x) | the same bytes |" in lines


def test_a_different_png_is_written_out() -> None:
    lines = render_section(_record(_run(140.0, 70.0), _run(140.0, 70.0, same=False)))

    assert any("DIFFERENT bytes" in line for line in lines)


def test_the_section_is_the_latest_runs_and_none_before_any(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    assert section(results) == []
    results.write_text(json.dumps([_record(_run(1.0, 1.0)), _record(_run(140.0, 70.0))]))

    assert "| rasa | 140.0 | |" in section(results)
