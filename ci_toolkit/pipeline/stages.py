"""What each pipeline stage runs, and how its status is decided from what rasa wrote and
printed. Rasa's exit code alone is not trusted (docs/architecture.md, "How rasa behaves":
it exits 0 when stories fail, when no model is found and on several bad paths).

Each runner takes (context, model) and is named in the stage registry
(ci_toolkit/pipeline/registry.py), which also gives the label its output lines carry."""

from __future__ import annotations

import dataclasses
import re
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ci_toolkit import interrupts
from ci_toolkit.pipeline.registry import BY_NAME, LABELS, StageSpec
from ci_toolkit.pipeline.settings import PipelineSettings
from ci_toolkit.proc import Completed
from ci_toolkit.rasa import failures, reports, runner, validation
from ci_toolkit.rasa.evaluator import ModelEvaluator
from ci_toolkit.rasa.runner import RasaRuntime
from ci_toolkit.rasa.training_config import config_rasa_may_write

_MODEL_SAVED = re.compile(r"Your Rasa model is trained and saved at '(?P<path>[^']+)'")
# Lines rasa prints (red, on stdout) when it gives up, often with exit code 0.
_RASA_COMPLAINTS = (
    "No model provided", "Unable to test", "Could not find any model", "No training data given",
    "No NLU data given", "No stories given", "doesn't contain valid NLU data",
    "Core training was skipped", "No model for finetuning found", "does not exist",
    "Cannot finetune", "is missing mandatory parameters",
)

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass
class StageResult:
    name: str
    status: str
    reason: str | None = None
    duration_s: float = 0.0
    cached: bool = False
    saved_s: float | None = None
    log_file: Path | None = None
    fingerprint: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    # Files worth caching: name in the cache entry -> path in this run.
    outputs: dict[str, Path] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == PASSED


@dataclass(frozen=True)
class StageContext:
    runtime: RasaRuntime
    settings: PipelineSettings
    results_root: Path
    logs_dir: Path
    # The long-lived rasa interpreters by name (StageSpec.interpreter); a stage whose
    # interpreter is not here runs its command in its own process.
    interpreters: Mapping[str, ModelEvaluator] = field(default_factory=dict)

    def out_dir(self, stage: str) -> Path:
        path = self.results_root / stage
        # A stale file from an earlier run would be read as this run's result.
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def log(self, stage: str) -> Path:
        return self.logs_dir / f"{stage}.log"

    def rasa(self, stage: str, argv: Sequence[str],
             extra_env: Mapping[str, str] | None = None) -> Completed:
        """Run one rasa command for a stage: its lines carry the stage's label, its log
        is the stage's log."""
        interpreter = self.interpreters.get(BY_NAME[stage].interpreter)
        if interpreter is not None:
            return interpreter.run(argv, label=LABELS[stage], log_file=self.log(stage),
                                   extra_env=extra_env)
        return self.runtime.run(argv, label=LABELS[stage], log_file=self.log(stage),
                                extra_env=extra_env)


def _complaint(done: Completed) -> str | None:
    """The line in which rasa said why it did nothing, if it said so."""
    for line in done.output.splitlines():
        text = line.strip()
        if any(marker in text for marker in _RASA_COMPLAINTS) and "UserWarning" not in text:
            return text
    return None


def _failure_reason(ctx: StageContext, done: Completed, fallback: str) -> str:
    """Rasa's own words for why it gave up: the error it printed (with the file and line it
    names), else the line in which it said why it did nothing, else the exception that ended
    its traceback, else ``fallback`` with the exit code and the log to read."""
    root = ctx.runtime.project.root
    printed = failures.printed_errors(done.stdout, root=root)
    if printed:
        return str(printed[-1])
    complaint = _complaint(done)
    if complaint:
        return complaint
    crash = failures.traceback_error(done.stderr, root=root)
    if crash is not None:
        return str(crash)
    for line in reversed(done.output.splitlines()):
        if line.strip().startswith("rasa: error:"):  # argparse: a bad extra argument
            return line.strip()
    if done.returncode != 0:
        return f"{fallback} (rasa exited with code {done.returncode}; see {done.log_file})"
    return fallback


def _finish(name: str, done: Completed, **fields: Any) -> StageResult:
    return StageResult(name=name, duration_s=done.duration_s, log_file=done.log_file, **fields)


def run_validate(ctx: StageContext, given: Path | None = None) -> StageResult:
    s = ctx.settings
    argv = runner.validate_argv(ctx.runtime.project, fail_on_warnings=s.fail_on_warnings,
                                extra=s.validate_args)
    done = ctx.rasa("validate", argv)
    findings = validation.parse_findings(stdout=done.stdout, stderr=done.stderr,
                                         project=ctx.runtime.project,
                                         fail_on_warnings=s.fail_on_warnings)
    errors = len(findings["errors"])
    if done.returncode != 0 or errors:
        stopped = [e["message"] for e in findings["errors"]
                   if e["code"] == validation.RASA_EXCEPTION]
        if stopped:  # rasa gave up on an exception: its message is the reason
            reason = stopped[-1]
        elif errors:
            reason = f"{errors} validation error{'s' if errors != 1 else ''}"
        else:
            reason = _failure_reason(ctx, done, "rasa data validate failed")
        return _finish("validate", done, status=FAILED, reason=reason,
                       data={"validation": findings})
    return _finish("validate", done, status=PASSED, data={"validation": findings},
                   outputs={"validate.log": ctx.log("validate")})


def run_train(ctx: StageContext, given: Path | None = None) -> StageResult:
    s = ctx.settings
    models = s.models_root
    models.mkdir(parents=True, exist_ok=True)
    project = ctx.runtime.project
    # rasa rewrites a config without assistant_id (or pipeline/policies); it gets a copy.
    with config_rasa_may_write(project, train_type=s.train_type,
                               assistant_name=s.assistant_name or project.name,
                               notice=ctx.runtime.console.line) as trained_on:
        argv = runner.train_argv(
            trained_on, train_type=s.train_type, out=models.resolve(),
            fixed_model_name=s.fixed_model_name, finetune="" if s.finetune else None,
            force=not s.use_cache, extra=s.train_args,
            skip_validation=runner.validates_while_training(ctx.runtime.version),
        )
        # rasa writes its archive in place: one it was writing when stopped is partial.
        with interrupts.discard_partial(models, "*.tar.gz"):
            done = ctx.rasa("train", argv)
    if trained_on.config != project.config:  # rasa's messages name the copy; name the file
        copy, name = str(trained_on.config), project.relative(project.config)
        done = dataclasses.replace(done, stdout=done.stdout.replace(copy, name),
                                   stderr=done.stderr.replace(copy, name))
    saved = _MODEL_SAVED.search(done.stdout)
    model = None
    if saved:
        model = Path(saved.group("path"))
        model = model if model.is_absolute() else ctx.runtime.project.root / model
    if done.returncode != 0 or model is None or not model.is_file():
        return _finish("train", done, status=FAILED,
                       reason=_failure_reason(ctx, done, "rasa train wrote no model"))
    return _finish("train", done, status=PASSED,
                   data={"model": {"path": str(model), "name": model.name, "source": "trained"}},
                   outputs={f"model/{model.name}": model})


def _outputs_of(directory: Path, prefix: str) -> dict[str, Path]:
    return {f"{prefix}/{p.relative_to(directory).as_posix()}": p
            for p in sorted(directory.rglob("*")) if p.is_file()}


def failed_stories_reason(core: dict[str, Any]) -> str | None:
    """"2 of 6 test stories failed", or None: the note on a core test that ran fine."""
    conversations = core.get("conversations") or {}
    if not core["failed_stories"] and conversations.get("correct") == conversations.get("total"):
        return None
    failed = len(core["failed_stories"]) or (
        conversations.get("total", 0) - conversations.get("correct", 0))
    return f"{failed} of {conversations.get('total', '?')} test stories failed"


def _rasa_test(ctx: StageContext, stage: str, model: Path | None, *, kind: str,
              argv_of: Callable[..., list[str]], extra: tuple[str, ...]) -> tuple[Path, Completed]:
    """Run `rasa test <kind>` on the model, writing into a fresh results/<kind>/."""
    if model is None:  # the scheduler skips a test stage that has no model
        raise ValueError(f"{stage} started without a model")
    out = ctx.out_dir(kind)
    argv = argv_of(ctx.runtime.project, model=model, out=out.resolve(), extra=extra)
    return out, ctx.rasa(stage, argv)


def run_test_core(ctx: StageContext, model: Path | None) -> StageResult:
    out, done = _rasa_test(ctx, "test_core", model, kind="core", argv_of=runner.test_core_argv,
                           extra=ctx.settings.test_core_args)
    if not (out / "story_report.json").is_file():
        return _finish("test_core", done, status=FAILED,
                       reason=_failure_reason(ctx, done, "rasa test core wrote no story report"))
    core = reports.parse_core_results(out, project_root=ctx.runtime.project.root)
    return _finish("test_core", done, status=PASSED, reason=failed_stories_reason(core),
                   data={"core": core}, outputs=_outputs_of(out, "core"))


def run_test_nlu(ctx: StageContext, model: Path | None) -> StageResult:
    out, done = _rasa_test(ctx, "test_nlu", model, kind="nlu", argv_of=runner.test_nlu_argv,
                           extra=ctx.settings.test_nlu_args)
    if not any(out.glob("*_report.json")):
        return _finish("test_nlu", done, status=FAILED,
                       reason=_failure_reason(ctx, done, "rasa test nlu wrote no report"))
    nlu = reports.parse_nlu_results(out, config=ctx.runtime.project.config, log_text=done.output)
    return _finish("test_nlu", done, status=PASSED, data={"nlu": nlu},
                   outputs=_outputs_of(out, "nlu"))


def run_cross_validate(ctx: StageContext, given: Path | None = None) -> StageResult:
    s = ctx.settings
    out = ctx.out_dir("cross_validation")
    argv = runner.cross_validate_argv(ctx.runtime.project, folds=s.folds, out=out.resolve(),
                                      extra=s.test_nlu_args)
    done = ctx.rasa("cross_validate", argv, extra_env=runner.NO_RASA_CACHE)
    if done.returncode != 0 or not any(out.glob("*_report.json")):
        return _finish("cross_validate", done, status=FAILED,
                       reason=_failure_reason(ctx, done, "cross-validation wrote no report"))
    parsed = reports.parse_cross_validation(out, log_text=done.output, folds=s.folds,
                                            config=ctx.runtime.project.config)
    return _finish("cross_validate", done, status=PASSED, data={"cross_validation": parsed},
                   outputs=_outputs_of(out, "cross_validation"))


def run_stage(spec: StageSpec, ctx: StageContext, model: Path | None) -> StageResult:
    """Run a stage by its registry entry: the runner is the function of this module that
    the entry names."""
    runner_function: Callable[[StageContext, Path | None], StageResult] = getattr(
        sys.modules[__name__], spec.runner)
    return runner_function(ctx, model)
