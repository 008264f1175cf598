"""Pool the shards of a sharded comparison (NLU or core) into the comparison section a one-machine
`ci-toolkit compare` writes (compare/section.py).

Shards only pool when they are one comparison: the same configs (names, files and contents),
runs, exclusion percentages, seed, data and rasa version, every shard 1..N exactly once, and
each shard the config and run its number stands for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ci_toolkit.compare.section import build_section
from ci_toolkit.compare.shard_report import CompareShard
from ci_toolkit.crossval.merge import check_agreement, check_each_once
from ci_toolkit.errors import UsageError

_MUST_AGREE = (("kind", "kind of comparison"), ("shards", "number of shards"),
               ("runs", "number of runs"), ("configs", "configurations"),
               ("exclusion_percentages", "exclusion percentages"), ("seed", "seed"),
               ("data_fingerprint", "training data"), ("rasa_version", "rasa version"))


def _check(shards: Sequence[CompareShard]) -> None:
    check_agreement(shards, _MUST_AGREE, what="comparison",
                    fix="Run every shard with the same data, --config, --runs, --percentages, "
                        "--seed and N in --shard i/N.")
    first = shards[0].content
    total, runs, configs = first["shards"], first["runs"], first["configs"]
    if total != len(configs) * runs:
        raise UsageError(f"{shards[0].path} names {total} shards, but {len(configs)} configs "
                         f"with {runs} runs make {len(configs) * runs}.")
    check_each_once([(shard.index, shard.path) for shard in shards], total, what="shard")
    for shard in shards:
        config = configs[(shard.index - 1) // runs]["name"]
        run = (shard.index - 1) % runs + 1
        if (shard.identity("config"), shard.identity("run")) != (config, run):
            raise UsageError(f"{shard.path} is shard {shard.index}, which is config {config!r} "
                             f"run {run}, but it holds config {shard.identity('config')!r} run "
                             f"{shard.identity('run')}. Do not rename shard reports.")


def merge_compare_shards(shards: Sequence[CompareShard]) -> dict[str, Any]:
    """The comparison section of these shards (``plot`` is None: the caller draws it)."""
    _check(shards)
    first = shards[0].content
    runs, percentages = first["runs"], first["exclusion_percentages"]
    results: dict[str, list[Any]] = {c["name"]: [None] * runs for c in first["configs"]}
    for shard in shards:
        results[shard.identity("config")][shard.identity("run") - 1] = [
            {key: value for key, value in m.items() if key != "exclusion_percentage"}
            for m in shard.measurements]
    return build_section(first["kind"], results,
                         files={c["name"]: c["file"] for c in first["configs"]},
                         runs=runs, percentages=percentages,
                         rasa_version=first["rasa_version"])
