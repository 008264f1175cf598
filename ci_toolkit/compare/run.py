"""Run rasa's own comparison of two or more configurations and write the comparison section.

NLU: `rasa test nlu --config A B --runs R --percentages P...`. Core: `rasa train core
--config A B --runs R --percentages P...`, then `rasa test core --evaluate-model-directory`.
Success is decided from the files rasa wrote (nlu_files.py, core_files.py), a failure is
told in rasa's words (rasa/failures.py).

Layout under the results directory (default PROJECT/results/compare-KIND): rasa/ (rasa's
files, emptied first), models/ (core), logs/, comparison.json (the section), comparison.md
(the Markdown fragment) and comparison.png (the plot).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ci_toolkit.compare import core_files, nlu_files
from ci_toolkit.compare.argv import (
    compare_nlu_argv,
    test_core_comparison_argv,
    train_core_comparison_argv,
)
from ci_toolkit.compare.failed import Failed
from ci_toolkit.compare.markdown import comparison_markdown
from ci_toolkit.compare.plot import draw, draw_with, own_interpreter_draws, plot_spec
from ci_toolkit.compare.request import CheckedConfig, CompareRequest, check_request
from ci_toolkit.compare.section import build_section
from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.pipeline.project import RasaProject
from ci_toolkit.proc import Console
from ci_toolkit.rasa import failures, runner
from ci_toolkit.rasa.training_config import config_rasa_may_write

SECTION_FILE = "comparison.json"
MARKDOWN_FILE = "comparison.md"
PLOT_FILE = "comparison.png"
STALE = ("rasa", "models", "data")  # emptied before each comparison (data/: a shard's split)


@dataclass(frozen=True)
class Comparison:
    section: dict[str, Any]
    section_file: Path
    markdown_file: Path
    plot_file: Path | None


def own_directory(workdir: Path, project: RasaProject, configs: Sequence[CheckedConfig]
                  ) -> Path:
    """The results directory, once it is sure not to hold the project's own files: its
    subdirectories STALE are emptied before each comparison; then they are emptied."""
    owned = [workdir / stale for stale in STALE]
    parts = [project.root, project.config, project.domain, *project.data,
             *(c.path for c in configs)]
    for part in (p.resolve() for p in parts):
        if any(part == owned_dir or owned_dir in part.parents for owned_dir in owned):
            raise UsageError(f"--result-dir {workdir} holds the project's own files ({part}), "
                             "and a comparison empties its rasa/, models/ and data/ "
                             "subdirectories. Give it a directory of its own, e.g. "
                             "results/compare.")
    for stale in STALE:
        # An earlier comparison's models and reports would pass for this one's.
        shutil.rmtree(workdir / stale, ignore_errors=True)
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    return workdir


def _compare_nlu(runtime: runner.RasaRuntime, project: RasaProject, configs: Sequence[Path],
                 names: Sequence[str], request: CompareRequest, workdir: Path
                 ) -> Mapping[str, Any]:
    out = workdir / "rasa"
    argv = compare_nlu_argv(project, configs, runs=request.runs,
                            percentages=request.percentages, out=out)
    done = runtime.run(argv, label="compare nlu", log_file=workdir / "logs" / "compare-nlu.log",
                       extra_env=runner.NO_RASA_CACHE)
    failures.require_output(done, out / nlu_files.RESULTS_FILE,
                            what="rasa test nlu (comparison)", root=project.root)
    found = nlu_files.read_nlu_comparison(out, names, runs=request.runs,
                                          percentages=request.percentages,
                                          log_text=done.stdout + "\n" + done.stderr)
    return {name: [[{"intent_f1": m.intent_f1, "entity_f1": m.entity_f1 or None,
                     "training_examples": m.training_examples} for m in run]
                   for run in runs] for name, runs in found.items()}


def _compare_core(runtime: runner.RasaRuntime, project: RasaProject, configs: Sequence[Path],
                  names: Sequence[str], request: CompareRequest, workdir: Path
                  ) -> Mapping[str, Any]:
    models, out, logs = workdir / "models", workdir / "rasa", workdir / "logs"
    argv = train_core_comparison_argv(project, configs, runs=request.runs,
                                      percentages=request.percentages, models=models)
    done = runtime.run(argv, label="compare train", log_file=logs / "compare-train-core.log",
                       extra_env=runner.NO_RASA_CACHE)
    failures.require_output(done, models / core_files.STORIES_FILE,
                            what="rasa train core (comparison)", root=project.root)
    missing = core_files.missing_models(models, names, runs=request.runs,
                                        percentages=request.percentages)
    if missing:
        raise ToolkitError(Failed.message(missing, what="rasa train core (comparison)"))
    done = runtime.run(test_core_comparison_argv(project, models=models, out=out),
                       label="compare test", log_file=logs / "compare-test-core.log")
    failures.require_output(done, out / core_files.RESULTS_FILE,
                            what="rasa test core --evaluate-model-directory", root=project.root)
    assert project.tests is not None  # test_core_comparison_argv refused None
    return core_files.read_core_comparison(
        models, out, names, runs=request.runs, percentages=request.percentages,
        test_stories=core_files.count_test_stories(project.tests))


def measure(request: CompareRequest, project: RasaProject, configs: Sequence[CheckedConfig],
            runtime: runner.RasaRuntime, workdir: Path) -> Mapping[str, Any]:
    """Run rasa's comparison of ``configs``; per config name, per run, per percentage, the
    measurements (also a core comparison shard's, with one config and one run)."""
    names = [config.name for config in configs]
    compare = _compare_nlu if request.kind == "nlu" else _compare_core
    with ExitStack() as stack:
        # A copy (same file name, so the same result name) where rasa would rewrite the
        # user's file (rasa/training_config.py).
        paths = [stack.enter_context(config_rasa_may_write(
            replace(project, config=config.path), train_type=request.kind,
            assistant_name=project.name, notice=runtime.console.line)).config
            for config in configs]
        return compare(runtime, project, paths, names, request, workdir)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def run_comparison(request: CompareRequest, *, console: Console,
                   environ: Mapping[str, str] | None = None) -> Comparison:
    """Compare the request's configs; write the section, the fragment and the plot."""
    project, configs = check_request(request)
    workdir = own_directory(request.workdir(project).resolve(), project, configs)
    runtime = rasa_runtime(request, project, console=console, environ=environ)
    results = measure(request, project, configs, runtime, workdir)
    section = build_section(request.kind, results,
                            files={c.name: project.relative(c.path) for c in configs},
                            runs=request.runs, percentages=request.percentages,
                            rasa_version=runner.installed_rasa_version(runtime.executable))
    return write_outputs(section, workdir, out=request.out, rasa=runtime.executable,
                         env=runtime.env, console=console)


def rasa_runtime(request: CompareRequest, project: RasaProject, *, console: Console,
                 environ: Mapping[str, str] | None) -> runner.RasaRuntime:
    executable = runner.find_rasa(request.rasa)
    env = runner.rasa_environment(environ if environ is not None else dict(os.environ),
                                  rasa_cache=None)
    return runner.RasaRuntime(executable=executable, project=project, env=env,
                              console=console, timeout_s=request.timeout_s)


def write_outputs(section: dict[str, Any], workdir: Path, *, out: Path | None,
                  rasa: str | None, env: Mapping[str, str], console: Console) -> Comparison:
    """The plot (when rasa's interpreter can draw it), comparison.json, comparison.md and
    ``out``, all under ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)  # the merge writes next to a new report
    plot = _plot(section, workdir / PLOT_FILE, executable=rasa, env=env, console=console)
    section["plot"] = plot.name if plot else None
    text = json.dumps(section, indent=2, ensure_ascii=False) + "\n"
    section_file, markdown_file = workdir / SECTION_FILE, workdir / MARKDOWN_FILE
    _write(section_file, text)
    _write(markdown_file, comparison_markdown(section, plot_href=section["plot"]))
    if out is not None:
        _write(out, text)
    return Comparison(section, section_file, markdown_file, plot)


def _plot(section: Mapping[str, Any], out: Path, *, executable: str | None,
          env: Mapping[str, str], console: Console) -> Path | None:
    """The plot, or None (with the reason on the console): a comparison is worth keeping
    without its picture."""
    if executable is None and not own_interpreter_draws():
        console.line("[compare] No plot: neither rasa nor matplotlib is installed here (the "
                     "plot is drawn with rasa's matplotlib). Pass --rasa, or install "
                     "matplotlib beside ci-toolkit, to draw it.")
        return None
    try:
        if executable is None:
            return draw_with(plot_spec(section, out), python=sys.executable, env=env)
        return draw(plot_spec(section, out), rasa_executable=executable, env=env)
    except ToolkitError as error:
        console.line(f"[compare] {error}")
        return None
