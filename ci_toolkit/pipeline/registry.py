"""The pipeline's stages, declared once: name, label, what each needs to have run first,
which setting switches it off and which function runs it.

Everything keyed by a stage (scheduling, log labels, the runner, the result table, the
report's stage list, the summary) reads this table, so adding a stage is one entry here plus
its runner in ci_toolkit/pipeline/stages.py (``stages.run_stage`` calls it by name).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ci_toolkit.pipeline.settings import PipelineSettings

DISABLED = "disabled"


class RunFacts(Protocol):
    """What a stage may need to know about the run before it starts (PipelineRun)."""

    def model_kind(self) -> str | None: ...  # "nlu", "core", "all", or None when unknown

    @property
    def has_test_stories(self) -> bool: ...


# The interpreters the stages' rasa commands run in: validation, training and the tests run
# one after the other in one; cross-validation, which may run beside training, in its own.
RUN_INTERPRETER = "model-evaluator"
CROSS_VALIDATION_INTERPRETER = "cross-validation-evaluator"


@dataclass(frozen=True)
class StageSpec:
    name: str  # the key in report.json and the cache
    label: str  # what people read: log prefixes, tables
    needs: tuple[str, ...]  # stages that must have finished (passed or cached) first
    # Its function in ci_toolkit/pipeline/stages.py, (ctx, model) -> StageResult. Named, not
    # referenced: stages reads this table, so this module cannot import stages.
    runner: str
    # Why the settings switch the stage off (a choice, not a failure), or None when it runs.
    switched_off: Callable[[PipelineSettings], str | None]
    # Its directory under the results root (rasa's files), None when it writes only a log.
    results_dir: str | None = None
    # Tests the trained model: the scheduler runs such stages one at a time, so that the
    # model, loaded once, serves them all (ci_toolkit/rasa/evaluator.py).
    tests_model: bool = False
    # The long-lived rasa interpreter (a ModelEvaluator) its rasa command runs in: rasa and
    # TensorFlow are imported once for all the stages that share it. Stages that run at the
    # same time use different ones.
    interpreter: str = RUN_INTERPRETER
    # Makes the model the stages after it test (when it is skipped, they have none).
    makes_model: bool = False
    # Why the stage cannot run on this run's model or project, or None when it can.
    unmet: Callable[[RunFacts], str | None] = lambda run: None


def _unless(on: Callable[[PipelineSettings], bool]) -> Callable[[PipelineSettings], str | None]:
    return lambda settings: None if on(settings) else DISABLED


def _core_test_unmet(run: RunFacts) -> str | None:
    if run.model_kind() == "nlu":
        return "the model is NLU-only"
    if not run.has_test_stories:
        return "no test stories (no tests/ with stories in it; pass --tests)"
    return None


def _nlu_test_unmet(run: RunFacts) -> str | None:
    return "the model is core-only" if run.model_kind() == "core" else None


def _train_off(settings: PipelineSettings) -> str | None:
    if settings.model:
        return "using the given model"
    return None if settings.train else DISABLED


STAGES: tuple[StageSpec, ...] = (
    StageSpec("validate", "validate", (), "run_validate", _unless(lambda s: s.validate)),
    StageSpec("train", "train", ("validate",), "run_train", _train_off, makes_model=True),
    StageSpec("test_core", "test core", ("train",), "run_test_core",
              _unless(lambda s: s.runs_core_test), results_dir="core", tests_model=True,
              unmet=_core_test_unmet),
    StageSpec("test_nlu", "test nlu", ("train",), "run_test_nlu",
              _unless(lambda s: s.runs_nlu_test), results_dir="nlu", tests_model=True,
              unmet=_nlu_test_unmet),
    # Cross-validation trains its own models, so it can run beside training.
    StageSpec("cross_validate", "cross-validate", ("validate",), "run_cross_validate",
              _unless(lambda s: s.cross_validation), results_dir="cross_validation",
              interpreter=CROSS_VALIDATION_INTERPRETER),
)

STAGE_NAMES: tuple[str, ...] = tuple(stage.name for stage in STAGES)
LABELS: dict[str, str] = {stage.name: stage.label for stage in STAGES}
NEEDS: dict[str, tuple[str, ...]] = {stage.name: stage.needs for stage in STAGES}
BY_NAME: dict[str, StageSpec] = {stage.name: stage for stage in STAGES}
INTERPRETERS: tuple[str, ...] = tuple(dict.fromkeys(stage.interpreter for stage in STAGES))
# The scheduler's lanes: the stages that test the model share its one loaded copy.
LANES: dict[str, str] = {stage.name: "model" for stage in STAGES if stage.tests_model}
