"""Run one fold of a sharded cross-validation with real rasa and write its shard report.

Fold i of N: the toolkit writes the fold's training and test data (split.py), then
`rasa train nlu` on the training data with the project's config, `rasa test nlu` of that
model on the training data (the fold's train metrics, as rasa's cross-validation computes
them) and on the test data with ``--successes``, so every test prediction is on disk (and,
in the model evaluator, the token labels rasa scores entities with). The three commands run
in one rasa interpreter (the model evaluator, rasa/evaluator.py), which loads the model once
for both tests, as rasa's own one-process cross-validation does. The shard report holds the
fold's predictions and metrics; merge.py pools the shards.

Layout under the results directory (default PROJECT/results/cross-validate/shard-I-of-N):
data/train.yml, data/test.yml, models/fold-I.tar.gz, train/, test/ (rasa's files), logs/
(each command's log, and rasa.log of the interpreter), and shard-report.json.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ci_toolkit.crossval import predictions, rasa_steps
from ci_toolkit.crossval.nlu_data import read_nlu_data
from ci_toolkit.crossval.shard_report import FORMAT, VERSION
from ci_toolkit.crossval.split import check_fold, make_fold, write_fold
from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.hashing import file_sha256
from ci_toolkit.options import setting
from ci_toolkit.pipeline.project import RasaProject, load_project
from ci_toolkit.proc import Console
from ci_toolkit.rasa import runner
from ci_toolkit.rasa.evaluator import ModelEvaluator
from ci_toolkit.rasa.evaluator_worker import ENTITY_LABELS_VARIABLE

if TYPE_CHECKING:
    from ci_toolkit.pipeline.settings import PipelineSettings

REPORT_NAME = "shard-report.json"


@dataclass(frozen=True)
class ShardPlan:
    """One shard's request: each field is an option of `ci-toolkit cross-validate --shard`."""

    shard: str = setting(
        metavar="i/N", envvar="SHARD",
        help="Run only fold i of an N-fold split (1 <= i <= N; N takes the place of --folds), "
             "one job of a CI matrix; every shard of one cross-validation takes the same N, "
             "--seed and data. `ci-toolkit merge` pools the shard reports.")
    seed: int = setting(0, envvar="SEED", help="Seed of the split: the same seed and data "
                        "give the same folds on every machine.")
    # Shared with `ci-toolkit run`: their options are PipelineSettings' (commands/crossval.py).
    project_dir: Path = Path(".")
    rasa: str | None = None
    config: str | None = None
    domain: str | None = None
    data: tuple[str, ...] = ()
    timeout_s: float | None = None
    results_dir: Path | None = setting(
        None, metavar="DIR", envvar="SHARD_RESULTS_DIRECTORY",
        help="Where the fold's data, model, rasa's files and shard-report.json go. "
             "[default: PROJECT/results/cross-validate/shard-i-of-N]")
    train_metrics: bool = setting(
        True, envvar="TRAIN_METRICS",
        help="Also test the fold's model on its own training data, for the train mean ± std "
             "(one more rasa run per shard).")

    @classmethod
    def from_settings(cls, settings: PipelineSettings, *, shard: str, seed: int,
                      train_metrics: bool) -> ShardPlan:
        """The shard of `ci-toolkit cross-validate --shard`: the project, rasa and timeout
        are the pipeline's options; its files go under --result-dir."""
        fold, folds = parse_shard(shard)
        return cls(shard=shard, seed=seed, project_dir=settings.project_dir,
                   rasa=settings.rasa, config=settings.config, domain=settings.domain,
                   data=tuple(settings.data), timeout_s=settings.timeout_s,
                   results_dir=settings.results_root / "cross-validate"
                   / f"shard-{fold}-of-{folds}",
                   train_metrics=train_metrics)

    @property
    def fold(self) -> int:
        return parse_shard(self.shard)[0]

    @property
    def folds(self) -> int:
        return parse_shard(self.shard)[1]

    def workdir(self, project: RasaProject) -> Path:
        if self.results_dir is not None:
            return self.results_dir
        return project.root / "results" / "cross-validate" / f"shard-{self.fold}-of-{self.folds}"


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/N"`` -> (i, N), with the message of a bad value."""
    parts = text.strip().split("/")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise UsageError(f"--shard {text!r} is not of the form i/N (fold i of N folds), e.g. "
                         "--shard 1/5.")
    index, folds = int(parts[0]), int(parts[1])
    check_fold(index, folds)
    return index, folds


def _own_directory(workdir: Path, project: RasaProject) -> Path:
    """The shard's directory, once it is sure not to hold the project's own files: its
    subdirectories are emptied before each run."""
    parts = [project.root, project.config, project.domain, *project.data]
    if any(path.resolve() == workdir or workdir in path.resolve().parents for path in parts):
        raise UsageError(f"--result-dir {workdir} holds the project's own files, and a shard "
                         "empties its data/, models/, train/ and test/ subdirectories. Give it "
                         "a directory of its own, e.g. results/cross-validate/shard-1-of-5.")
    return workdir


def run_shard(plan: ShardPlan, *, console: Console, environ: dict[str, str] | None = None
              ) -> Path:
    """Run fold ``plan.fold`` of ``plan.folds``; return the path of its shard report."""
    parse_shard(plan.shard)  # a bad --shard is reported before anything is read
    project = load_project(plan.project_dir, config=plan.config, domain=plan.domain,
                           data=list(plan.data) or None)
    data = read_nlu_data(project.data)
    fold = make_fold(data, index=plan.fold, folds=plan.folds, seed=plan.seed)
    workdir = _own_directory(plan.workdir(project).resolve(), project)
    for stale in ("data", "models", "train", "test"):
        # An earlier run's files would pass for this run's (rasa writes no errors file
        # when every prediction is right).
        shutil.rmtree(workdir / stale, ignore_errors=True)
    files = write_fold(fold, data, workdir / "data")
    entity_labels = workdir / "test" / predictions.ENTITY_LABELS_FILE
    entity_labels.parent.mkdir(parents=True)  # the worker writes there before rasa's reports
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    executable = runner.find_rasa(plan.rasa)
    env = runner.rasa_environment(environ if environ is not None else dict(os.environ),
                                  rasa_cache=None)
    runtime = runner.RasaRuntime(executable=executable, project=project, env=env,
                                 console=console, timeout_s=plan.timeout_s)
    with ModelEvaluator(runtime, log_file=logs / "rasa.log") as rasa:
        model = rasa_steps.train_nlu(runtime, project, train_data=files.train,
                                     models=workdir / "models", log_file=logs / "train.log",
                                     model_name=f"fold-{plan.fold}", label="crossval train",
                                     what="the fold's training data", rasa=rasa)
        if plan.train_metrics:
            rasa_steps.test_nlu(runtime, project, model=model, data=files.train,
                                out=workdir / "train", log_file=logs / "test-train.log",
                                label="crossval train", what="the fold's train data",
                                rasa=rasa)
        rasa_steps.test_nlu(runtime, project, model=model, data=files.test,
                            out=workdir / "test", log_file=logs / "test-test.log",
                            label="crossval test", what="the fold's test data",
                            extra=["--successes"], rasa=rasa,
                            extra_env={ENTITY_LABELS_VARIABLE: str(entity_labels)})
    report = shard_report(plan, data_fingerprint=data.fingerprint(),
                          config_sha256=file_sha256(project.config), workdir=workdir,
                          expected=sum(len(found) for found in fold.test.values()),
                          rasa_version=runner.installed_rasa_version(executable))
    path = workdir / REPORT_NAME
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def shard_report(plan: ShardPlan, *, data_fingerprint: str, config_sha256: str, workdir: Path,
                 expected: int, rasa_version: str | None) -> dict[str, Any]:
    """The shard report of a fold whose rasa files are under ``workdir``."""
    intents = predictions.intent_predictions(workdir / "test")
    if len(intents) != expected:
        raise ToolkitError(
            f"rasa recorded {len(intents)} intent predictions for the {expected} test examples "
            f"of fold {plan.fold} (in {workdir / 'test'}). Every example must be predicted "
            "once; run the shard again with a clean --result-dir.")
    return {
        "format": FORMAT, "version": VERSION,
        "fold": plan.fold, "folds": plan.folds, "seed": plan.seed,
        "data_fingerprint": data_fingerprint, "config_sha256": config_sha256,
        "rasa_version": rasa_version,
        "predictions": {
            "intent_classification": intents,
            "response_selection": predictions.response_predictions(workdir / "test"),
            "entity_extraction": predictions.entity_predictions(workdir / "test"),
            # Absent when rasa ran outside the model evaluator: then no pooled entity report.
            "entity_token_labels": predictions.entity_token_labels(workdir / "test"),
        },
        # Without train metrics the train directory is absent: no task, no train figures.
        "metrics": {"train": predictions.task_metrics(workdir / "train"),
                    "test": predictions.task_metrics(workdir / "test")},
    }
