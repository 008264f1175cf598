"""Shard reports made by hand for the merge tests (the shape shard.py writes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ci_toolkit.crossval.shard_report import FORMAT, VERSION


def intents(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"text": f"example {n}", "intent": gold, "predicted_intent": guess,
             "confidence": 0.5} for n, (gold, guess) in enumerate(pairs)]


def metrics(accuracy: float, f1: float, precision: float) -> dict[str, float]:
    return {"accuracy": accuracy, "f1_score": f1, "precision": precision}


def shard(fold: int, pairs: list[tuple[str, str]], *, folds: int = 2, seed: int = 0,
          fingerprint: str = "data-1", config: str = "config-1",
          train: dict[str, Any] | None = None, test: dict[str, Any] | None = None,
          responses: list[dict[str, Any]] | None = None,
          entity_token_labels: dict[str, Any] | None = None) -> dict[str, Any]:
    content = {
        "format": FORMAT, "version": VERSION, "fold": fold, "folds": folds, "seed": seed,
        "data_fingerprint": fingerprint, "config_sha256": config, "rasa_version": "3.6.21",
        "predictions": {"intent_classification": intents(*pairs),
                        "response_selection": responses or [], "entity_extraction": {}},
        "metrics": {"train": train or {"intent_classification": metrics(1.0, 1.0, 1.0)},
                    "test": test or {"intent_classification": metrics(0.5, 0.5, 0.5)}},
    }
    if entity_token_labels is not None:
        content["predictions"]["entity_token_labels"] = entity_token_labels
    return content


def token_labels(extractor: str, targets: list[str], predictions: list[str]
                 ) -> dict[str, Any]:
    """What the model evaluator's worker records for one extractor of one shard."""
    return {"no_entity": "no_entity",
            "extractors": {extractor: {"targets": targets, "predictions": predictions}}}


def write(directory: Path, *shards: dict[str, Any]) -> list[Path]:
    paths = []
    for index, content in enumerate(shards):
        path = directory / f"shard-{index}" / "shard-report.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content), encoding="utf-8")
        paths.append(path)
    return paths
