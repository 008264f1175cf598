"""The report of one comparison shard (`ci-toolkit compare --shard i/N`): one config's numbers
for one run at every exclusion percentage (NLU: F1s; core: correct test stories), and what the
shards must agree on to be merged (docs/config-comparison.md describes every key).

Reading checks the shape, so a truncated artifact is a usage error that names the file and
the key, never a traceback in the middle of a merge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ci_toolkit.errors import UsageError

if TYPE_CHECKING:
    from ci_toolkit.compare.request import CompareRequest, Shard

FORMAT = "ci-toolkit/comparison-shard"
VERSION = 1
_INTEGERS = ("shard", "shards", "seed", "runs", "run")
_STRINGS = ("kind", "config", "data_fingerprint")


@dataclass(frozen=True)
class CompareShard:
    path: Path
    content: dict[str, Any]

    @property
    def index(self) -> int:
        return int(self.content["shard"])

    def identity(self, key: str) -> Any:
        return self.content[key]

    @property
    def measurements(self) -> list[dict[str, Any]]:
        return list(self.content["measurements"])


def shard_report(request: CompareRequest, shard: Shard, *, measurements: list[dict[str, Any]],
                 data_fingerprint: str, configs: list[dict[str, str]],
                 rasa_version: str | None) -> dict[str, Any]:
    """``configs``: every config of the comparison (name, file, sha256), in the order given."""
    return {
        "format": FORMAT, "version": VERSION, "kind": request.kind,
        "shard": shard.index, "shards": shard.total, "seed": request.seed,
        "runs": request.runs, "run": shard.run, "config": configs[shard.config]["name"],
        "configs": configs, "exclusion_percentages": list(request.percentages),
        "data_fingerprint": data_fingerprint, "rasa_version": rasa_version,
        "measurements": measurements,
    }


def _bad(path: Path, where: str, problem: str) -> UsageError:
    return UsageError(f"{path} is not a usable comparison shard report: {where} {problem}. "
                      "Pass the shard-report.json files that `ci-toolkit compare --shard` "
                      "wrote.", file=str(path))


# The number each kind's measurement must have (compare/section.py reads the rest).
_REQUIRED = {"nlu": ("intent_f1", (int, float)), "core": ("correct_stories", int)}


def _check_measurements(path: Path, found: Any, percentages: Sequence[int], kind: str) -> None:
    if not isinstance(found, list) or len(found) != len(percentages):
        raise _bad(path, "measurements", f"is not a list of {len(percentages)} measurements "
                   "(one per exclusion percentage)")
    if kind not in _REQUIRED:
        raise _bad(path, "kind", f"is {kind!r}, not one of {', '.join(_REQUIRED)}")
    key, types = _REQUIRED[kind]
    for index, (measurement, percentage) in enumerate(zip(found, percentages)):
        where = f"measurements[{index}]"
        if not isinstance(measurement, dict) or \
                measurement.get("exclusion_percentage") != percentage:
            raise _bad(path, where, f"is not the measurement at {percentage}% exclusion")
        value = measurement.get(key)
        if not isinstance(value, types) or isinstance(value, bool):
            raise _bad(path, f"{where}.{key}", "is missing or not a number")


def check_shape(path: Path, content: dict[str, Any]) -> dict[str, Any]:
    if content.get("version") != VERSION:
        raise _bad(path, "version", f"is {content.get('version')!r}; this toolkit reads "
                   f"version {VERSION}")
    for key, kind in [*((k, int) for k in _INTEGERS), *((k, str) for k in _STRINGS)]:
        value = content.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise _bad(path, key, f"is missing or not a {kind.__name__}")
    configs = content.get("configs")
    if not isinstance(configs, list) or not all(
            isinstance(c, dict) and isinstance(c.get("name"), str)
            and isinstance(c.get("file"), str) for c in configs):
        raise _bad(path, "configs", "is not a list of {\"name\", \"file\", \"sha256\"}")
    percentages = content.get("exclusion_percentages")
    if not isinstance(percentages, list) or not all(isinstance(p, int) for p in percentages):
        raise _bad(path, "exclusion_percentages", "is not a list of integers")
    _check_measurements(path, content.get("measurements"), percentages, content["kind"])
    return content
