"""Comparison shard reports and sections made by hand (the shapes compare/shard.py and
compare/section.py write), for the merge, report and summary tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ci_toolkit.compare.section import build_section
from ci_toolkit.compare.shard_report import FORMAT, VERSION

CONFIGS = [{"name": "light", "file": "configs/light.yml", "sha256": "a" * 64},
           {"name": "chars", "file": "configs/chars.yml", "sha256": "b" * 64}]


def measurement(percentage: int, f1: float, *, entity: float | None = None,
                examples: int = 40) -> dict[str, Any]:
    return {"exclusion_percentage": percentage, "intent_f1": f1,
            "entity_f1": {"CRFEntityExtractor": entity} if entity is not None else None,
            "training_examples": examples}


def shard(index: int, measurements: list[dict[str, Any]], *, runs: int = 2,
          configs: list[dict[str, str]] | None = None, **changes: Any) -> dict[str, Any]:
    """Shard ``index`` of len(configs) x runs: its config and run follow from the index."""
    configs = configs or CONFIGS
    content = {
        "format": FORMAT, "version": VERSION, "kind": "nlu", "shard": index,
        "shards": len(configs) * runs, "seed": 0, "runs": runs,
        "run": (index - 1) % runs + 1, "config": configs[(index - 1) // runs]["name"],
        "configs": configs, "exclusion_percentages": [m["exclusion_percentage"]
                                                      for m in measurements],
        "data_fingerprint": "data-1", "rasa_version": "3.6.21", "measurements": measurements,
    }
    return {**content, **changes}


def write(directory: Path, *shards: dict[str, Any]) -> list[Path]:
    paths = []
    for number, content in enumerate(shards, start=1):
        path = directory / f"shard-{number}" / "shard-report.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content), encoding="utf-8")
        paths.append(path)
    return paths


def section(names: tuple[str, str] = ("light", "chars"), *, plot: str | None = None
            ) -> dict[str, Any]:
    """A two-config NLU comparison, one run, two percentages; the first config wins."""
    a, b = names
    section = build_section(
        "nlu",
        {a: [[{"intent_f1": 0.9, "entity_f1": {"CRFEntityExtractor": 0.5},
               "training_examples": 40},
              {"intent_f1": 0.7, "entity_f1": {"CRFEntityExtractor": 0.4},
               "training_examples": 20}]],
         b: [[{"intent_f1": 0.8, "entity_f1": None, "training_examples": 40},
              {"intent_f1": 0.6, "entity_f1": None, "training_examples": 20}]]},
        files={a: f"{a}.yml", b: f"{b}.yml"}, runs=1, percentages=[0, 50],
        rasa_version="3.6.21")
    section["plot"] = plot
    return section
