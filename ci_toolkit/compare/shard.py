"""Run one shard of a sharded comparison (`ci-toolkit compare --shard i/N`): one config,
one run, every exclusion percentage, and write its shard report.

Core (`--kind core`): rasa's own policy comparison of the one config with `--runs 1`
(compare/run.py), which drops the excluded stories at random as each of rasa's runs does; the
shard report holds its correct test stories per percentage.

NLU: the run's data is drawn by the toolkit (compare/split.py), so every config of a run trains
and tests on the same examples whatever machine runs it. For each exclusion percentage p:
`rasa train nlu` of the config on the run's training split less p% (data/<p>%_exclusion/
train.yml), then `rasa test nlu` of that model on the run's test set, the two steps rasa's
own comparison takes per model (rasa/nlu/test.py ``compare_nlu``). The intent F1 is the
label-weighted average of rasa's intent report (the number rasa puts in results.json).

Layout under RESULT_DIR/compare/shard-i-of-N: data/ (NLU), models/, rasa/ (rasa's reports),
logs/ and shard-report.json (compare/shard_report.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ci_toolkit.compare.nlu_files import weighted_f1
from ci_toolkit.compare.request import (
    CheckedConfig,
    CompareRequest,
    Shard,
    check_request,
    check_shard,
)
from ci_toolkit.compare.run import measure, own_directory, rasa_runtime
from ci_toolkit.compare.shard_report import shard_report
from ci_toolkit.compare.split import run_split, training_fold
from ci_toolkit.crossval import rasa_steps
from ci_toolkit.crossval.nlu_data import read_nlu_data
from ci_toolkit.crossval.split import write_fold
from ci_toolkit.errors import ToolkitError
from ci_toolkit.hashing import file_sha256
from ci_toolkit.pipeline.project import RasaProject, yaml_files
from ci_toolkit.proc import Console
from ci_toolkit.rasa import runner
from ci_toolkit.rasa.evaluator import ModelEvaluator
from ci_toolkit.rasa.reports import entity_reports, read_classification

REPORT_NAME = "shard-report.json"


def read_measurement(out: Path, training_examples: int) -> dict[str, Any]:
    """One model's numbers from rasa's reports in ``out``, as the comparison section takes
    them (compare/run.py)."""
    intents = read_classification(out / "intent_report.json")
    intent_f1 = weighted_f1(intents) if intents is not None else None
    if intent_f1 is None:
        raise ToolkitError(f"rasa's {out / 'intent_report.json'} has no weighted-average F1: "
                           "the test data had no intent rasa could score. Check its log.")
    entities = {extractor: f1 for extractor, report in entity_reports(out).items()
                if (f1 := weighted_f1(report)) is not None}
    return {"intent_f1": intent_f1, "entity_f1": entities or None,
            "training_examples": training_examples}


def _model(runtime: runner.RasaRuntime, rasa: rasa_steps.RunsRasa, project: RasaProject, *,
           train: Path, test: Path, workdir: Path, name: str, percentage: int) -> Path:
    """Train the config at one percentage and test it; the directory of rasa's reports."""
    where = f"{percentage}%_exclusion"
    logs = workdir / "logs"
    model = rasa_steps.train_nlu(
        runtime, project, train_data=train, models=workdir / "models" / where,
        log_file=logs / f"train-{percentage}.log", model_name=name,
        label=f"compare train {percentage}%", what=f"the run's training data less {percentage}%",
        rasa=rasa)
    out = workdir / "rasa" / where
    rasa_steps.test_nlu(runtime, project, model=model, data=test, out=out,
                        log_file=logs / f"test-{percentage}.log",
                        label=f"compare test {percentage}%", what="the run's test data",
                        rasa=rasa)
    return out


def _nlu_measurements(request: CompareRequest, shard: Shard, config: CheckedConfig,
                      project: RasaProject, runtime: runner.RasaRuntime, workdir: Path
                      ) -> tuple[list[dict[str, Any]], str]:
    """The NLU shard's measurements at each percentage, and the fingerprint of its data."""
    data = read_nlu_data(project.data)
    split = run_split(data, run=shard.run, seed=request.seed)
    measurements = []
    # One rasa interpreter for the shard's commands: rasa and TensorFlow are imported once.
    with ModelEvaluator(runtime, log_file=workdir / "logs" / "rasa.log") as rasa:
        for percentage in request.percentages:
            fold = training_fold(split, percentage=percentage, seed=request.seed,
                                 runs=request.runs)
            files = write_fold(fold, data, workdir / "data" / f"{percentage}%_exclusion")
            out = _model(runtime, rasa, project, train=files.train, test=files.test,
                         workdir=workdir, name=config.name, percentage=percentage)
            examples = sum(len(found) for found in fold.train.values())
            measurements.append({"exclusion_percentage": percentage,
                                 **read_measurement(out, examples)})
    return measurements, data.fingerprint()


def _core_measurements(request: CompareRequest, config: CheckedConfig, project: RasaProject,
                       runtime: runner.RasaRuntime, workdir: Path
                       ) -> tuple[list[dict[str, Any]], str]:
    """The core shard's measurements: rasa's own policy comparison of the one config with
    --runs 1 (rasa drops the excluded stories at random, as it does for each of its runs)."""
    results = measure(replace(request, runs=1), project, [config], runtime, workdir)
    (run,) = results[config.name]
    measurements = [{"exclusion_percentage": percentage, **measured}
                    for percentage, measured in zip(request.percentages, run, strict=True)]
    assert project.tests is not None  # check_request requires test stories for core
    return measurements, files_fingerprint(project, [*project.data, project.domain,
                                                     project.tests])


def files_fingerprint(project: RasaProject, paths: Sequence[Path]) -> str:
    """SHA-256 of the YAML files under ``paths`` (names relative to the project, and
    contents): the same data gives the same value on every machine."""
    digest = hashlib.sha256()
    files = sorted({found.resolve() for path in paths for found in yaml_files(path)})
    for found in files:
        digest.update(project.relative(found).encode() + b"\0" + found.read_bytes() + b"\0")
    return digest.hexdigest()


def run_compare_shard(request: CompareRequest, *, console: Console,
                      environ: Mapping[str, str] | None = None) -> Path:
    """Run shard ``request.shard``; return the path of its shard report."""
    assert request.shard is not None
    project, configs = check_request(request)
    shard = check_shard(request.shard, configs=len(configs), runs=request.runs)
    config = configs[shard.config]
    project = replace(project, config=config.path)
    workdir = own_directory(request.workdir(project).resolve(), project, configs)
    runtime = rasa_runtime(request, project, console=console, environ=environ)
    if request.kind == "core":
        measurements, fingerprint = _core_measurements(request, config, project, runtime,
                                                       workdir)
    else:
        measurements, fingerprint = _nlu_measurements(request, shard, config, project,
                                                      runtime, workdir)
    report = shard_report(
        request, shard, measurements=measurements, data_fingerprint=fingerprint,
        configs=[{"name": c.name, "file": project.relative(c.path),
                  "sha256": file_sha256(c.path)} for c in configs],
        rasa_version=runner.installed_rasa_version(runtime.executable))
    path = workdir / REPORT_NAME
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
