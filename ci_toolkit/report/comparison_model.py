"""The `comparison` section of report.json: `ci-toolkit compare` (or the merge of its shards),
typed. It holds the comparison section of comparison.json (docs/config-comparison.md), with
``plot`` the PNG's path as seen from the directory the command ran in (as `artifacts` paths
are), so the HTML report can embed it.

A point's metrics are kept as the JSON form (``{"intent_f1": {"mean", "std", "runs"}, ...}``):
which metrics a point has depends on the kind of comparison and on the configs' extractors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ci_toolkit.report.records import Codec, Record, many, one

FORMAT = "ci-toolkit/comparison"


@dataclass(frozen=True)
class ComparedConfig(Record):
    """One configuration: its name (file name without extension), its file, and per amount of
    training data (most first) the mean ± std of each metric over the runs."""

    name: str
    file: str = ""
    points: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ComparisonWinner(Record):
    """The config with the highest mean headline metric at the most training data compared;
    ``config`` is None on a tie, and ``tied`` lists the configs."""

    config: str | None = None
    tied: list[str] = field(default_factory=list)
    metric: str = ""
    exclusion_percentage: int = 0
    training_data_percentage: int = 100
    mean: float | None = None
    runner_up: str | None = None
    runner_up_mean: float | None = None
    margin: float | None = None


@dataclass(frozen=True)
class Comparison(Record):
    FIELDS: ClassVar[Mapping[str, Codec]] = {"configs": many(ComparedConfig),
                                             "winner": one(ComparisonWinner)}
    format: str = FORMAT
    version: int = 1
    kind: str = "nlu"
    runs: int = 1
    exclusion_percentages: list[int] = field(default_factory=list)
    rasa_version: str | None = None
    metric: str = "intent_f1"
    configs: list[ComparedConfig] = field(default_factory=list)
    winner: ComparisonWinner | None = None
    plot: str | None = None
