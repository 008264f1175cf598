"""report.json as typed objects (docs/report-schema.md, ci_toolkit/schemas/report.schema.json).

``Report.from_dict`` builds the objects from the JSON form and ``Report.to_dict`` gives that
form back unchanged: every key the schema names is a field, and any other key a section
carries (the schema allows additions) is kept in the section's ``extra`` so nothing is lost.
Reading a report from a file, with schema validation and clear errors, is ci_toolkit/report/
load.py; this module trusts its input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any, ClassVar

from ci_toolkit.report.actions_model import Actions
from ci_toolkit.report.comparison_model import Comparison
from ci_toolkit.report.records import (
    Codec,
    Record,
    Status,
    choice,
    many,
    named,
    one,
)

__all__ = ["READABLE_VERSIONS", "SCHEMA_VERSION", "Actions", "Codec", "Comparison", "Record",
           "Status", "choice", "many", "named", "one"]
# Version 2 added the `actions` section (docs/report-schema.md, "Changes").
SCHEMA_VERSION = 2
# Every version this ci-toolkit reads: a version 1 report (a baseline written before the
# bump) is a version 2 report without the action-server section.
READABLE_VERSIONS = (1, 2)


class Verdict(str, Enum):
    PASSED = "passed"
    FAILED = "failed"


class ModelSource(str, Enum):
    TRAINED = "trained"
    GIVEN = "given"
    CACHED = "cached"


@dataclass(frozen=True)
class Tool(Record):
    name: str = "ci-toolkit"
    version: str = ""


@dataclass(frozen=True)
class Assistant(Record):
    name: str = ""
    project_dir: str = "."
    data_name: str = "default"
    configuration_name: str = ""


@dataclass(frozen=True)
class GitHubRun(Record):
    server_url: str
    repository: str
    run_id: str
    run_url: str


@dataclass(frozen=True)
class RunInfo(Record):
    FIELDS: ClassVar[Mapping[str, Codec]] = {"github": one(GitHubRun)}
    commit: str | None = None
    ref: str | None = None
    started_at: str = ""
    finished_at: str = ""
    duration_s: float = 0.0
    rasa_version: str | None = None
    github: GitHubRun | None = None


@dataclass(frozen=True)
class StageRecord(Record):
    FIELDS: ClassVar[Mapping[str, Codec]] = {"status": choice(Status)}
    name: str
    status: Status
    cached: bool = False
    duration_s: float = 0.0
    saved_s: float | None = None
    reason: str | None = None
    log_file: str | None = None
    fingerprint: str | None = None


@dataclass(frozen=True)
class ModelInfo(Record):
    FIELDS: ClassVar[Mapping[str, Codec]] = {"source": choice(ModelSource)}
    path: str
    name: str
    source: ModelSource


@dataclass(frozen=True)
class Finding(Record):
    level: str
    code: str
    message: str
    file: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Validation(Record):
    FIELDS: ClassVar[Mapping[str, Codec]] = {"errors": many(Finding), "warnings": many(Finding)}
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class Averages(Record):
    """micro/macro/weighted average of a classification."""

    precision: float | None = None
    recall: float | None = None
    f1_score: float | None = None
    support: int | None = None


@dataclass(frozen=True)
class LabelMetrics(Record):
    precision: float | None = None
    recall: float | None = None
    f1_score: float | None = None
    support: int | None = None
    confused_with: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Classification(Record):
    FIELDS: ClassVar[Mapping[str, Codec]] = {
        "micro_avg": one(Averages), "macro_avg": one(Averages), "weighted_avg": one(Averages),
        "labels": named(LabelMetrics)}
    accuracy: float | None = None
    micro_avg: Averages | None = None
    macro_avg: Averages | None = None
    weighted_avg: Averages | None = None
    labels: dict[str, LabelMetrics] = field(default_factory=dict)


@dataclass(frozen=True)
class UnevaluatedExtractor(Record):
    """An entity extractor of the pipeline that rasa did not score. ``unreachable``: it could
    not do its work (a Duckling server that was down), so its entities are simply missing."""

    name: str
    reason: str
    unreachable: bool = False


@dataclass(frozen=True)
class Nlu(Record):
    FIELDS: ClassVar[Mapping[str, Codec]] = {
        "intent_classification": one(Classification),
        "entity_extraction": named(Classification),
        "response_selection": one(Classification),
        "unevaluated_extractors": many(UnevaluatedExtractor)}
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"unevaluated_extractors"})
    intent_classification: Classification | None = None
    entity_extraction: dict[str, Classification] = field(default_factory=dict)
    response_selection: Classification | None = None
    unevaluated_extractors: list[UnevaluatedExtractor] = field(default_factory=list)


@dataclass(frozen=True)
class Conversations(Record):
    accuracy: float | None = None
    correct: int | None = None
    total: int | None = None
    with_warnings: int = 0


@dataclass(frozen=True)
class FailedStep(Record):
    index: int | None = None
    kind: str | None = None
    expected: str | None = None
    predicted: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class FailedStory(Record):
    FIELDS: ClassVar[Mapping[str, Codec]] = {"failed_step": one(FailedStep)}
    name: str
    file: str | None = None
    line: int | None = None
    failed_step: FailedStep | None = None
    yaml: str = ""


@dataclass(frozen=True)
class Core(Record):
    FIELDS: ClassVar[Mapping[str, Codec]] = {
        "story_prediction": one(Classification), "conversations": one(Conversations),
        "failed_stories": many(FailedStory)}
    story_prediction: Classification | None = None
    conversations: Conversations | None = None
    failed_stories: list[FailedStory] = field(default_factory=list)


@dataclass(frozen=True)
class MeanStd(Record):
    mean: float
    std: float


@dataclass(frozen=True)
class CrossValidated(Record):
    """One task over the folds: the pooled report, and mean ± std of each metric."""

    FIELDS: ClassVar[Mapping[str, Codec]] = {
        "pooled": one(Classification), "train": named(MeanStd), "test": named(MeanStd)}
    pooled: Classification | None = None
    train: dict[str, MeanStd] = field(default_factory=dict)
    test: dict[str, MeanStd] = field(default_factory=dict)


@dataclass(frozen=True)
class CrossValidation(Record):
    FIELDS: ClassVar[Mapping[str, Codec]] = {
        "intent_classification": one(CrossValidated),
        "entity_extraction": named(CrossValidated),
        "response_selection": one(CrossValidated),
        "unevaluated_extractors": many(UnevaluatedExtractor)}
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"unevaluated_extractors"})
    folds: int
    intent_classification: CrossValidated | None = None
    entity_extraction: dict[str, CrossValidated] = field(default_factory=dict)
    response_selection: CrossValidated | None = None
    unevaluated_extractors: list[UnevaluatedExtractor] = field(default_factory=list)


@dataclass(frozen=True)
class Artifacts(Record):
    results_dir: str = ""
    images: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GateResult(Record):
    """One quality gate. ``kind`` is "min", "max_drop" or "failed_stories"; ``metric`` the
    dotted path it checked; ``skipped`` gates could not be checked and count as passed."""

    name: str
    passed: bool
    message: str
    kind: str | None = None
    metric: str | None = None
    value: float | None = None
    threshold: float | None = None
    baseline: float | None = None
    skipped: bool = False

    def to_dict(self) -> dict[str, Any]:
        # The key order report.json has always had.
        data = super().to_dict()
        order = ("name", "kind", "metric", "passed", "value", "threshold", "baseline",
                 "message", "skipped")
        return {**{key: data.pop(key) for key in order}, **data}


@dataclass(frozen=True)
class Report(Record):
    FIELDS: ClassVar[Mapping[str, Codec]] = {
        "tool": one(Tool), "assistant": one(Assistant), "run": one(RunInfo),
        "verdict": choice(Verdict), "stages": many(StageRecord), "model": one(ModelInfo),
        "validation": one(Validation), "nlu": one(Nlu), "core": one(Core),
        "cross_validation": one(CrossValidation), "actions": one(Actions),
        "artifacts": one(Artifacts), "gates": many(GateResult), "comparison": one(Comparison)}
    # `comparison` came after version 2 without a new version: absent unless a comparison ran,
    # and older readers keep it as an unknown key (docs/report-schema.md, "Changes").
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"comparison"})
    schema_version: int = SCHEMA_VERSION
    tool: Tool = field(default_factory=Tool)
    assistant: Assistant = field(default_factory=Assistant)
    run: RunInfo = field(default_factory=RunInfo)
    verdict: Verdict = Verdict.PASSED
    stages: list[StageRecord] = field(default_factory=list)
    model: ModelInfo | None = None
    validation: Validation | None = None
    nlu: Nlu | None = None
    core: Core | None = None
    cross_validation: CrossValidation | None = None
    actions: Actions | None = None
    artifacts: Artifacts = field(default_factory=Artifacts)
    gates: list[GateResult] = field(default_factory=list)
    rtt: dict[str, Any] = field(default_factory=dict)
    comparison: Comparison | None = None

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        if self.schema_version < 2 and self.actions is None:
            # A version 1 report has no such key: it round-trips unchanged.
            del data["actions"]
        return data

    @cached_property
    def data(self) -> dict[str, Any]:
        """The JSON form, built once: metrics are looked up in it by dotted path
        (ci_toolkit/report/metrics.py). Do not change it; make a new Report instead."""
        return self.to_dict()

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASSED

    def stage(self, name: str) -> StageRecord | None:
        return next((stage for stage in self.stages if stage.name == name), None)

    @property
    def unevaluated_extractors(self) -> list[UnevaluatedExtractor]:
        """The extractors the NLU test and cross-validation did not score, each once: as the
        NLU test saw it, unless only cross-validation found it unreachable."""
        found: dict[str, UnevaluatedExtractor] = {}
        for section in (self.nlu, self.cross_validation):
            for extractor in section.unevaluated_extractors if section is not None else ():
                known = found.get(extractor.name)
                if known is None or (extractor.unreachable and not known.unreachable):
                    found[extractor.name] = extractor
        return list(found.values())

    @property
    def unreachable_extractors(self) -> list[UnevaluatedExtractor]:
        return [extractor for extractor in self.unevaluated_extractors if extractor.unreachable]
