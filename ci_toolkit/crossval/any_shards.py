"""`ci-toolkit merge` takes the shard reports of either a sharded cross-validation or a
sharded comparison. Each says which it is in its ``format``; a mix of the two (or a file
of neither) is refused before anything is merged."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci_toolkit.compare import shard_report as compare_shard
from ci_toolkit.crossval import shard_report as crossval_shard
from ci_toolkit.errors import UsageError

CROSS_VALIDATION = "cross-validation"
COMPARISON = "comparison"
KINDS = {crossval_shard.FORMAT: CROSS_VALIDATION, compare_shard.FORMAT: COMPARISON}


@dataclass(frozen=True)
class Merged:
    kind: str  # CROSS_VALIDATION or COMPARISON
    section: dict[str, Any]
    shards: int
    rasa_version: str | None
    directory: Path  # the directory all shard reports are under


def _kind(path: Path, content: Any) -> str:
    found = content.get("format") if isinstance(content, dict) else None
    if found not in KINDS:
        raise UsageError(f"{path} is not a shard report (it has no \"format\" of "
                         f"{' or '.join(map(repr, KINDS))}). Pass the shard-report.json files "
                         "that `ci-toolkit cross-validate --shard` or `ci-toolkit compare "
                         "--shard` wrote.", file=str(path))
    return KINDS[found]


def merge_shard_files(paths: Sequence[Path]) -> Merged:
    """The merged section of the shard reports at ``paths``, all of one kind."""
    from ci_toolkit.compare.merge import merge_compare_shards
    from ci_toolkit.crossval.merge import merge_shards

    loaded = [(path, crossval_shard.read_shard_json(path)) for path in paths]
    kinds: dict[str, list[str]] = {}
    for path, content in loaded:
        kinds.setdefault(_kind(path, content), []).append(str(path))
    if len(kinds) > 1:
        listed = "; ".join(f"{kind}: {', '.join(found)}" for kind, found in kinds.items())
        raise UsageError(f"These shard reports mix a cross-validation and a comparison "
                         f"({listed}). Merge each kind with its own `ci-toolkit merge`.")
    if not loaded:
        raise UsageError("No shard reports to merge. Pass the shard-report.json of every "
                         "shard: ci-toolkit merge shard-1/shard-report.json ...")
    kind = next(iter(kinds))
    version = loaded[0][1].get("rasa_version")
    directory = Path(os.path.commonpath([path.resolve().parent for path in paths]))
    if kind == COMPARISON:
        shards = [compare_shard.CompareShard(path, compare_shard.check_shape(path, content))
                  for path, content in loaded]
        return Merged(kind, merge_compare_shards(shards), len(shards), version, directory)
    folds = [crossval_shard.ShardReport(path, crossval_shard.check_shape(path, content))
             for path, content in loaded]
    return Merged(kind, merge_shards(folds), len(folds), version, directory)
