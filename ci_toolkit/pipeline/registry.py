"""The pipeline's stages, declared once: name, label, what each needs to have run first.

Everything keyed by a stage (scheduling, log labels, the result table, the report's stage
list, the summary) reads this table, so adding a stage is one entry here plus its runner.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StageSpec:
    name: str  # the key in report.json and the cache
    label: str  # what people read: log prefixes, tables
    needs: tuple[str, ...]  # stages that must have finished (passed or cached) first


STAGES: tuple[StageSpec, ...] = (
    StageSpec("validate", "validate", ()),
    StageSpec("train", "train", ("validate",)),
    StageSpec("test_core", "test core", ("train",)),
    StageSpec("test_nlu", "test nlu", ("train",)),
    # Cross-validation trains its own models, so it can run beside training.
    StageSpec("cross_validate", "cross-validate", ("validate",)),
)

STAGE_NAMES: tuple[str, ...] = tuple(stage.name for stage in STAGES)
LABELS: dict[str, str] = {stage.name: stage.label for stage in STAGES}
NEEDS: dict[str, tuple[str, ...]] = {stage.name: stage.needs for stage in STAGES}
