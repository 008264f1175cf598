"""The shard report: one fold's predictions and metrics, as `cross-validate --shard` writes
it and `merge` reads it (docs/sharded-cross-validation.md describes every key).

Reading checks the shape, so a truncated artifact or a file that is not a shard report is a
usage error that names the file and the key, never a traceback in the middle of a merge.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci_toolkit.errors import UsageError

FORMAT = "ci-toolkit/cross-validation-shard"
VERSION = 1
_IDENTITY = (("fold", int), ("folds", int), ("seed", int), ("data_fingerprint", str),
             ("config_sha256", str))
_INTENT_KEYS = (("text", str), ("intent", str), ("predicted_intent", str))
_RESPONSE_KEYS = (("text", str), ("response_key", str), ("predicted_response_key", str))


@dataclass(frozen=True)
class ShardReport:
    path: Path
    content: dict[str, Any]

    @property
    def fold(self) -> int:
        return int(self.content["fold"])

    def identity(self, key: str) -> Any:
        return self.content[key]

    def predictions(self, task: str) -> list[dict[str, Any]]:
        return list(self.content["predictions"].get(task) or [])

    def entity_token_labels(self, extractor: str) -> tuple[list[str], list[str], str] | None:
        """The token labels rasa scored ``extractor`` with (gold, predicted, the label of no
        entity), or None when the shard did not record them."""
        recorded = self.content["predictions"].get("entity_token_labels")
        labels = (recorded or {}).get("extractors", {}).get(extractor)
        if labels is None:
            return None
        return list(labels["targets"]), list(labels["predictions"]), recorded["no_entity"]

    def metrics(self, split: str) -> dict[str, Any]:
        return dict(self.content["metrics"].get(split) or {})


def _bad(path: Path, where: str, problem: str) -> UsageError:
    return UsageError(f"{path} is not a usable shard report: {where} {problem}. Pass the "
                      "shard-report.json files that `ci-toolkit cross-validate --shard` wrote.",
                      file=str(path))


def _check_list(path: Path, records: Any, keys: tuple[tuple[str, type], ...], where: str
                ) -> None:
    if not isinstance(records, list):
        raise _bad(path, where, "is not a list")
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise _bad(path, f"{where}[{index}]", "is not an object")
        for key, kind in keys:
            if not isinstance(record.get(key), kind):
                raise _bad(path, f"{where}[{index}].{key}", f"is not a {kind.__name__}")


def token_labels_problem(recorded: Any) -> tuple[str, str] | None:
    """What is wrong with recorded entity token labels (where, problem), or None: an object
    {"no_entity": LABEL, "extractors": {NAME: {"targets": [...], "predictions": [...]}}}
    whose two lists per extractor are strings of one length."""
    if not isinstance(recorded, dict) or not isinstance(recorded.get("no_entity"), str) \
            or not isinstance(recorded.get("extractors"), dict):
        return "", "is not an object with \"no_entity\" and \"extractors\""
    for name, labels in recorded["extractors"].items():
        lists = [labels.get(key) if isinstance(labels, dict) else None
                 for key in ("targets", "predictions")]
        if not all(isinstance(found, list) and all(isinstance(x, str) for x in found)
                   for found in lists) or len(lists[0]) != len(lists[1]):
            return (f".extractors.{name}", "is not two lists of strings (\"targets\", "
                    "\"predictions\") of one length")
    return None


def _check_token_labels(path: Path, recorded: Any) -> None:
    """``predictions.entity_token_labels``: optional (null when rasa ran outside the model
    evaluator)."""
    problem = token_labels_problem(recorded) if recorded is not None else None
    if problem is not None:
        raise _bad(path, f"predictions.entity_token_labels{problem[0]}", problem[1])


def check_shape(path: Path, content: Any) -> dict[str, Any]:
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise _bad(path, "the file", f"has no \"format\": \"{FORMAT}\"")
    if content.get("version") != VERSION:
        raise _bad(path, "version", f"is {content.get('version')!r}; this toolkit reads "
                   f"version {VERSION}")
    for key, kind in _IDENTITY:
        value = content.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise _bad(path, key, f"is missing or not a {kind.__name__}")
    found = content.get("predictions")
    if not isinstance(found, dict):
        raise _bad(path, "predictions", "is missing or not an object")
    _check_list(path, found.get("intent_classification"), _INTENT_KEYS,
                "predictions.intent_classification")
    _check_list(path, found.get("response_selection") or [], _RESPONSE_KEYS,
                "predictions.response_selection")
    _check_token_labels(path, found.get("entity_token_labels"))
    metrics = content.get("metrics")
    if not isinstance(metrics, dict) or not all(
            isinstance(metrics.get(split), dict) for split in ("train", "test")):
        raise _bad(path, "metrics", "must hold a \"train\" and a \"test\" object")
    return content


def read_shard_json(path: Path) -> Any:
    """The JSON of a shard report (of either kind), or a UsageError that names the file."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise UsageError(f"The shard report {path} does not exist. Pass the shard-report.json "
                         "of every shard (download the shards' artifacts first).") from error
    except (OSError, ValueError) as error:
        raise UsageError(f"The shard report {path} cannot be read as JSON: {error}.",
                         file=str(path)) from error


def load_shard_report(path: Path) -> ShardReport:
    return ShardReport(path=path, content=check_shape(path, read_shard_json(path)))
