"""The pipeline: validate -> train -> test core / test NLU, and cross-validation.

Stages run as soon as what they need is done, up to ``settings.jobs`` at a time (with one
job, in the order above). Each stage is looked up in the stage cache by its fingerprint
first; a hit restores its files and results instead of running rasa.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ci_toolkit.gha import ActionsRuntime, group_lines
from ci_toolkit.pipeline import fingerprint, inputs, stages
from ci_toolkit.pipeline.cache import CacheEntry, StageCache
from ci_toolkit.pipeline.cache_key import cache_key
from ci_toolkit.pipeline.project import RasaProject, load_project
from ci_toolkit.pipeline.registry import (
    BY_NAME,
    INTERPRETERS,
    LABELS,
    LANES,
    NEEDS,
    STAGES,
    StageSpec,
)
from ci_toolkit.pipeline.scheduler import Scheduler
from ci_toolkit.pipeline.settings import PipelineSettings
from ci_toolkit.pipeline.stages import FAILED, PASSED, SKIPPED, StageContext, StageResult
from ci_toolkit.proc import Console
from ci_toolkit.rasa import runner
from ci_toolkit.rasa.evaluator import ModelEvaluator

# Where the stages write rasa's files under the results root; a cache entry's files go back
# there (anything else in an entry is a stage log).
RESULTS_DIRS = {spec.results_dir for spec in STAGES if spec.results_dir}


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

    @property
    def model_path(self) -> Path | None:
        return Path(self.model["path"]) if self.model else None

    def artifact_dirs(self) -> list[Path]:
        """The result directories this run wrote or restored. Only their files are this
        run's artifacts; another stage's directory holds an earlier run's files."""
        root = self.settings.results_root
        return [root / BY_NAME[name].results_dir for name, result in self.results.items()
                if result.status != SKIPPED and BY_NAME[name].results_dir]

    @property
    def has_test_stories(self) -> bool:
        return self.project.tests is not None

    def model_kind(self) -> str | None:
        """all, nlu or core: what the model to test can be tested on; None without one."""
        if self.model is None:
            return None
        if self.model["source"] != "given" and self.settings.train_type != "all":
            return self.settings.train_type
        name = self.model["name"]
        return "nlu" if name.startswith("nlu-") else "core" if name.startswith("core-") else "all"


def blocked(spec: StageSpec, settings: PipelineSettings, run: PipelineRun,
            results: Mapping[str, StageResult]) -> str | None:
    """Why a stage cannot run now that what it needs has finished, or None when it can."""
    off = spec.switched_off(settings)
    if off:
        return off
    for need in spec.needs:
        result = results.get(need)
        if result is not None and result.status == FAILED:
            return f"{need} failed"
        if BY_NAME[need].makes_model and result is not None and result.status == SKIPPED \
                and run.model is None:
            if BY_NAME[need].switched_off(settings):
                return "no model: training is disabled and no --model was given"
            return f"{need} did not run ({result.reason})"
    return spec.unmet(run)


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
        label = LABELS[stage]
        self.console.hold(label)
        self.console.line(f"[{stage}] started; its output follows in one group when it ends")
        try:
            yield
        finally:
            self.console.block(group_lines(title, self.console.release(label)))

    def prepare(self) -> tuple[PipelineRun, StageContext, Path | None]:
        s = self.settings
        # Before anything else: a bad output path found later would lose the run's results.
        inputs.check_paths(s)
        needs_tests = s.runs_core_test and not s.tests and s.test_type == "core"
        project = load_project(s.project_dir, config=s.config, domain=s.domain,
                               data=list(s.data) or None, tests=s.tests, require_tests=needs_tests)
        given_model = inputs.resolve_model(s)
        executable = runner.find_rasa(s.rasa)
        version = runner.installed_rasa_version(executable)
        results_root = s.results_root
        logs = results_root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        rasa_cache = s.cache_root / "rasa" if s.use_cache else None
        env = runner.rasa_environment(self.environ, rasa_cache=rasa_cache)
        runtime = runner.RasaRuntime(executable=executable, project=project, env=env,
                                     console=self.console, timeout_s=s.timeout_s,
                                     version=version)
        run = PipelineRun(settings=s, project=project, rasa_version=version,
                          started_at=time.time())
        return run, StageContext(runtime=runtime, settings=s, results_root=results_root,
                                 logs_dir=logs), given_model

    def execute(self) -> PipelineRun:
        run, ctx, given_model = self.prepare()
        s = self.settings
        if given_model is not None:
            run.model = {"path": str(given_model), "name": given_model.name, "source": "given"}
        prints = fingerprint.stage_fingerprints(
            run.project, s, rasa_version=run.rasa_version, given_model=given_model,
            warn=self.console.line if s.use_cache else None)
        cache = self._stage_cache(run)

        def finished(stage: str, result: StageResult) -> None:
            if stage == "train" and result.status == PASSED:
                run.model = result.data["model"]
            self.console.line(_stage_line(result))

        def settle(stage: str, results: Mapping[str, StageResult]) -> StageResult | None:
            reason = blocked(BY_NAME[stage], s, run, results)
            return StageResult(name=stage, status=SKIPPED, reason=reason) if reason else None

        scheduler: Scheduler[StageResult] = Scheduler(NEEDS, jobs=s.jobs, lanes=LANES)
        with ExitStack() as stack:
            interpreters = {name: stack.enter_context(ModelEvaluator(ctx.runtime,
                                                                     log_file=ctx.log(name)))
                            for name in INTERPRETERS}
            ctx = dataclasses.replace(ctx, interpreters=interpreters)
            run.results = scheduler.run(
                lambda stage: self._start(BY_NAME[stage], ctx, run, cache, prints.get(stage)),
                settle=settle, finished=finished)
        _clear_blocked(run, ctx)
        run.finished_at = time.time()
        return run

    def _stage_cache(self, run: PipelineRun) -> StageCache | None:
        """The stage cache, or None when results must not be reused or kept."""
        s = self.settings
        if not s.use_cache:
            return None
        if run.rasa_version is None:
            # The version stands for the executable in every fingerprint: without it, a
            # result of one rasa would be restored for another.
            self.console.line("[cache] rasa's version could not be read: every stage runs")
            return None
        return StageCache(s.cache_root, key=cache_key(self.environ, warn=self.console.line),
                          warn=self.console.line)

    def _start(self, spec: StageSpec, ctx: StageContext, run: PipelineRun,
               cache: StageCache | None, key: str | None) -> StageResult:
        """The stage's result: restored from the cache when its inputs are unchanged, else
        run (and stored, when it passed)."""
        if cache is None:
            key = None
        restored = self._from_cache(spec.name, ctx, cache, key) if cache and key else None
        if restored is not None:
            return restored
        with self._stage_output(spec.name):
            result = stages.run_stage(spec, ctx, run.model_path)
        result.fingerprint = key
        if key and cache is not None and result.status == PASSED:
            cache.store(spec.name, key, duration_s=result.duration_s, data=result.data,
                        files=result.outputs)
        return result

    def _from_cache(self, stage: str, ctx: StageContext, cache: StageCache,
                    key: str) -> StageResult | None:
        """The cached result put back in place, or None when there is none to trust."""
        entry = cache.load(stage, key)
        if entry is None:
            return None
        try:
            return self._restore(stage, entry, ctx)
        except (KeyError, TypeError, OSError) as error:
            cache.discard(stage, key, f"it could not be restored: {error!r}")
            return None

    def _restore(self, stage: str, entry: CacheEntry, ctx: StageContext) -> StageResult:
        """Put a cached stage's files back where the stage would have written them."""
        data = dict(entry.data)
        cleared: set[str] = set()
        for name, cached in entry.files.items():
            top, _, rest = name.partition("/")
            if top == "model":
                target = self.settings.models_root / rest
                data["model"] = {**data["model"], "path": str(target), "source": "cached"}
            elif top in RESULTS_DIRS:
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


def _clear_blocked(run: PipelineRun, ctx: StageContext) -> None:
    """A stage that was asked for but could not run (what it needs failed) leaves nothing of
    an earlier run behind: its old pictures and log would read as this run's. A stage the
    settings switched off keeps its files (a fuller report may point at them) and is left
    out of this run's artifacts (PipelineRun.artifact_dirs)."""
    for name, result in run.results.items():
        spec = BY_NAME[name]
        if result.status != SKIPPED or spec.switched_off(run.settings):
            continue
        if spec.results_dir:
            shutil.rmtree(ctx.results_root / spec.results_dir, ignore_errors=True)
        ctx.log(name).unlink(missing_ok=True)


def _stage_line(result: StageResult) -> str:
    extra = f": {result.reason}" if result.reason else ""
    how = "cached" if result.cached else f"{result.duration_s:.0f} s"
    return f"[{result.name}] {result.status} ({how}){extra}"
