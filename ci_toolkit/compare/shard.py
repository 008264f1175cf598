"""Run one shard of a sharded NLU comparison (`ci-toolkit compare --shard i/N`): one config,
one run, every exclusion percentage, and write its shard report.

The run's data is drawn by the toolkit (compare/split.py), so every config of a run trains
and tests on the same examples whatever machine runs it. For each exclusion percentage p:
`rasa train nlu` of the config on the run's training split less p% (data/<p>%_exclusion/
train.yml), then `rasa test nlu` of that model on the run's test set, the two steps rasa's
own comparison takes per model (rasa/nlu/test.py ``compare_nlu``). The intent F1 is the
label-weighted average of rasa's intent report (the number rasa puts in results.json).

Layout under RESULT_DIR/compare/shard-i-of-N: data/, models/, rasa/ (rasa's reports, per
percentage), logs/ and shard-report.json (compare/shard_report.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ci_toolkit.compare.nlu_files import weighted_f1
from ci_toolkit.compare.request import CompareRequest, check_request, check_shard
from ci_toolkit.compare.run import own_directory, rasa_runtime
from ci_toolkit.compare.shard_report import shard_report
from ci_toolkit.compare.split import run_split, training_fold
from ci_toolkit.crossval import rasa_steps
from ci_toolkit.crossval.nlu_data import read_nlu_data
from ci_toolkit.crossval.split import write_fold
from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.hashing import file_sha256
from ci_toolkit.pipeline.project import RasaProject
from ci_toolkit.proc import Console
from ci_toolkit.rasa import runner
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


def run_compare_shard(request: CompareRequest, *, console: Console,
                      environ: Mapping[str, str] | None = None) -> Path:
    """Run shard ``request.shard``; return the path of its shard report."""
    assert request.shard is not None
    if request.kind != "nlu":
        raise UsageError("--shard splits NLU comparisons only (--kind nlu). A policy "
                         "comparison (--kind core) runs on one machine: drop --shard.")
    project, configs = check_request(request)
    shard = check_shard(request.shard, configs=len(configs), runs=request.runs)
    config = configs[shard.config]
    project = replace(project, config=config.path)
    data = read_nlu_data(project.data)
    split = run_split(data, run=shard.run, seed=request.seed)
    workdir = own_directory(request.workdir(project).resolve(), project, configs)
    runtime = rasa_runtime(request, project, console=console, environ=environ)
    measurements = []
    # One rasa interpreter for the shard's commands: rasa and TensorFlow are imported once.
    with rasa_steps.one_interpreter(runtime, log_file=workdir / "logs" / "rasa.log") as rasa:
        for percentage in request.percentages:
            fold = training_fold(split, percentage=percentage, seed=request.seed,
                                 runs=request.runs)
            files = write_fold(fold, data, workdir / "data" / f"{percentage}%_exclusion")
            out = _model(runtime, rasa, project, train=files.train, test=files.test,
                         workdir=workdir, name=config.name, percentage=percentage)
            examples = sum(len(found) for found in fold.train.values())
            measurements.append({"exclusion_percentage": percentage,
                                 **read_measurement(out, examples)})
    report = shard_report(
        request, shard, measurements=measurements, data_fingerprint=data.fingerprint(),
        configs=[{"name": c.name, "file": project.relative(c.path),
                  "sha256": file_sha256(c.path)} for c in configs],
        rasa_version=runner.installed_rasa_version(runtime.executable))
    path = workdir / REPORT_NAME
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
