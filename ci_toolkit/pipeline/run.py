"""The pipeline: validate -> train -> test core / test NLU, and cross-validation.

Stages run as soon as what they need is done, up to ``settings.jobs`` at a time (with one
job, in the order above). Each stage is looked up in the stage cache by its fingerprint
first; a hit restores its files and results instead of running rasa.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ci_toolkit.errors import UsageError
from ci_toolkit.gha import ActionsRuntime, group_lines
from ci_toolkit.pipeline import fingerprint, stages
from ci_toolkit.pipeline.cache import CacheEntry, StageCache
from ci_toolkit.pipeline.project import RasaProject, load_project
from ci_toolkit.pipeline.settings import STAGE_NAMES, PipelineSettings
from ci_toolkit.pipeline.stages import FAILED, PASSED, SKIPPED, StageContext, StageResult
from ci_toolkit.proc import Console
from ci_toolkit.rasa import runner

NEEDS = {
    "validate": (),
    "train": ("validate",),
    "test_core": ("train",),
    "test_nlu": ("train",),
    "cross_validate": ("validate",),
}


@dataclass
class PipelineRun:
    settings: PipelineSettings
    project: RasaProject
    rasa_version: str | None
    started_at: float
    finished_at: float = 0.0
    results: dict[str, StageResult] = field(default_factory=dict)
    model: dict[str, str] | None = None

    @property
    def passed(self) -> bool:
        return all(r.status != FAILED for r in self.results.values())


def _enabled(settings: PipelineSettings, given_model: Path | None) -> dict[str, str | None]:
    """Stage -> None when it runs, else why it is skipped (a choice, not a failure)."""
    return {
        "validate": None if settings.validate else "disabled",
        "train": ("using the given model" if given_model is not None
                  else None if settings.train else "disabled"),
        "test_core": None if settings.runs_core_test else "disabled",
        "test_nlu": None if settings.runs_nlu_test else "disabled",
        "cross_validate": None if settings.cross_validation else "disabled",
    }


def _resolve_model(settings: PipelineSettings) -> Path | None:
    if not settings.model:
        return None
    model = Path(settings.model)
    if not model.is_absolute() and not model.exists():
        model = settings.project_dir / model
    if not model.is_file():
        raise UsageError(f"The model {settings.model} does not exist. Pass the path of a "
                         "trained model archive (.tar.gz) to --model, or train one.")
    return model


def _model_kind(model_name: str, settings: PipelineSettings, trained: bool) -> str:
    if trained and settings.train_type != "all":
        return settings.train_type
    if model_name.startswith("nlu-"):
        return "nlu"
    if model_name.startswith("core-"):
        return "core"
    return "all"


class Pipeline:
    def __init__(self, settings: PipelineSettings, *, console: Console,
                 environ: Mapping[str, str] | None = None,
                 actions: ActionsRuntime | None = None) -> None:
        self.settings = settings
        self.console = console
        self.environ = dict(os.environ if environ is None else environ)
        self.actions = actions

    @contextmanager
    def _stage_output(self, stage: str) -> Iterator[None]:
        """In Actions, put a stage's rasa output in a collapsible group."""
        if self.actions is None:
            yield
            return
        title = f"{stage} (rasa output)"
        if self.settings.jobs == 1:
            with self.actions.group(title):
                yield
            return
        # Groups cannot nest or interleave, and stages running side by side would mix
        # their lines into one group. So each stage's lines are held back and printed as
        # one group when the stage ends; a heartbeat line meanwhile shows it is alive.
        label = stages.LABELS[stage]
        self.console.hold(label)
        self.console.line(f"[{stage}] started; its output follows in one group when it ends")
        try:
            yield
        finally:
            self.console.block(group_lines(title, self.console.release(label)))

    def prepare(self) -> tuple[PipelineRun, StageContext, Path | None]:
        s = self.settings
        needs_tests = s.runs_core_test and not s.tests and s.test_type == "core"
        project = load_project(s.project_dir, config=s.config, domain=s.domain,
                               data=list(s.data) or None, tests=s.tests, require_tests=needs_tests)
        given_model = _resolve_model(s)
        executable = runner.find_rasa(s.rasa)
        version = runner.installed_rasa_version(executable)
        results_root = s.results_root
        logs = results_root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        rasa_cache = s.cache_root / "rasa" if s.use_cache else None
        env = runner.rasa_environment(self.environ, rasa_cache=rasa_cache)
        runtime = runner.RasaRuntime(executable=executable, project=project, env=env,
                                     console=self.console, timeout_s=s.timeout_s)
        run = PipelineRun(settings=s, project=project, rasa_version=version,
                          started_at=time.time())
        return run, StageContext(runtime=runtime, settings=s, results_root=results_root,
                                 logs_dir=logs), given_model

    def execute(self) -> PipelineRun:
        run, ctx, given_model = self.prepare()
        s = self.settings
        skips = _enabled(s, given_model)
        prints = fingerprint.stage_fingerprints(
            run.project, s, rasa_version=run.rasa_version, given_model=given_model,
            warn=self.console.line if s.use_cache else None)
        cache = StageCache(s.cache_root, warn=self.console.line) if s.use_cache else None
        if given_model is not None:
            run.model = {"path": str(given_model), "name": given_model.name, "source": "given"}

        def model_path() -> Path | None:
            return Path(run.model["path"]) if run.model else None

        def model_kind() -> str:
            assert run.model is not None
            return _model_kind(run.model["name"], s, trained=run.model["source"] != "given")

        def blocked(stage: str) -> str | None:
            """Why a stage cannot run now that its dependencies finished."""
            if skips[stage]:
                return skips[stage]
            for need in NEEDS[stage]:
                result = run.results.get(need)
                if result is not None and result.status == FAILED:
                    return f"{need} failed"
                if need == "train" and result is not None and result.status == SKIPPED \
                        and model_path() is None:
                    if skips["train"]:
                        return "no model: training is disabled and no --model was given"
                    return f"train did not run ({result.reason})"
            if stage == "test_core" and model_kind() == "nlu":
                return "the model is NLU-only"
            if stage == "test_nlu" and model_kind() == "core":
                return "the model is core-only"
            if stage == "test_core" and run.project.tests is None:
                return "no test stories (tests/ is missing; pass --tests)"
            return None

        actions: dict[str, Callable[[], StageResult]] = {
            "validate": lambda: stages.run_validate(ctx),
            "train": lambda: stages.run_train(ctx),
            "test_core": lambda: stages.run_test_core(ctx, model_path()),  # type: ignore[arg-type]
            "test_nlu": lambda: stages.run_test_nlu(ctx, model_path()),  # type: ignore[arg-type]
            "cross_validate": lambda: stages.run_cross_validate(ctx),
        }

        def start(stage: str) -> StageResult:
            key = prints.get(stage) if cache is not None else None
            if key and cache is not None:
                entry = cache.load(stage, key)
                if entry is not None:
                    try:
                        return self._restore(stage, entry, ctx)
                    except (KeyError, TypeError, OSError) as error:
                        cache.discard(stage, key, f"it could not be restored: {error!r}")
            with self._stage_output(stage):
                result = actions[stage]()
            result.fingerprint = key
            if key and cache is not None and result.status == PASSED:
                cache.store(stage, key, duration_s=result.duration_s, data=result.data,
                            files=result.outputs)
            return result

        pending = list(STAGE_NAMES)
        running: dict[Future[StageResult], str] = {}
        with ThreadPoolExecutor(max_workers=s.jobs) as pool:
            while pending or running:
                for stage in list(pending):
                    if len(running) >= s.jobs:
                        break
                    if any(need not in run.results for need in NEEDS[stage]):
                        continue
                    pending.remove(stage)
                    reason = blocked(stage)
                    if reason:
                        run.results[stage] = StageResult(name=stage, status=SKIPPED, reason=reason)
                        continue
                    running[pool.submit(start, stage)] = stage
                if not running:
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    stage = running.pop(future)
                    result = future.result()
                    run.results[stage] = result
                    if stage == "train" and result.status == PASSED:
                        run.model = result.data["model"]
                    self.console.line(_stage_line(result))
        run.finished_at = time.time()
        return run

    def _restore(self, stage: str, entry: CacheEntry, ctx: StageContext) -> StageResult:
        """Put a cached stage's files back where the stage would have written them."""
        data = dict(entry.data)
        cleared: set[str] = set()
        for name, cached in entry.files.items():
            top, _, rest = name.partition("/")
            if top == "model":
                target = self.settings.models_root / rest
                data["model"] = {**data["model"], "path": str(target), "source": "cached"}
            elif top in ("core", "nlu", "cross_validation"):
                if top not in cleared:  # as a real run does: no stale file from an earlier run
                    ctx.out_dir(top)
                    cleared.add(top)
                target = ctx.results_root / top / rest
            else:
                target = ctx.logs_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(cached, target)
        result = StageResult(name=stage, status=PASSED, cached=True, saved_s=entry.duration_s,
                             fingerprint=entry.fingerprint, data=data,
                             reason=(stages.failed_stories_reason(data["core"])
                                     if stage == "test_core" else None))
        self.console.line(f"[{stage}] inputs unchanged: restored from the cache "
                          f"(saves {entry.duration_s:.0f} s)")
        return result


def _stage_line(result: StageResult) -> str:
    extra = f": {result.reason}" if result.reason else ""
    how = "cached" if result.cached else f"{result.duration_s:.0f} s"
    return f"[{result.name}] {result.status} ({how}){extra}"
