"""Sharded cross-validation against one process, side by side in one run.

    scripts/benchmark.sh --sharded-cv [--intents 200] [--examples 10] [--seed 7] [--epochs 10]
        [--folds 5] [--split-seed 0] [--no-train-metrics] [--repeats 1]
        [--out-json benchmarks/results-sharded-cv.json] [--write-results benchmarks/RESULTS.md]

On the generated assistant (benchmarks/generate_assistant.py, written into a temporary
directory), each repeat runs, one after the other:
  one process  the raw `rasa test nlu --cross-validation --folds N` (what
               `ci-toolkit cross-validate --folds N` without --shard runs)
  shards       `ci-toolkit cross-validate --shard i/N --seed S` for i = 1..N, each alone
  merge        `ci-toolkit merge` of the N shard reports, with --report
Each run gets a fresh copy of the project, and rasa's component cache is off for all of them
(RASA_MAX_CACHE_SIZE=0; the shards set it themselves), so no run reuses another's trained
components. Wall time, and CPU time (user + system) of every process a run started and waited
for: the RUSAGE_CHILDREN difference around it. The run goes to --out-json (a list of runs) and
the section "Sharded cross-validation" of --write-results (benchmarks/sharded_cv_report.py).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
# The pinned rasa of scripts/setup-rasa.sh when the script is run without scripts/benchmark.sh
# (which exports CI_TOOLKIT_RASA); before run_benchmarks reads it.
_PINNED_RASA = Path("/root/.cache/ci-toolkit/rasa-3.6.21/bin/rasa")
if "CI_TOOLKIT_RASA" not in os.environ and _PINNED_RASA.exists():
    os.environ["CI_TOOLKIT_RASA"] = str(_PINNED_RASA)

from benchmarks import sharded_cv_report  # noqa: E402
from benchmarks.generate_assistant import generate  # noqa: E402
from benchmarks.run_benchmarks import ENV, LARGE_EPOCHS, RASA, commit, fresh_copy, machine  # noqa: E402

# rasa's cache would otherwise fill PROJECT/.rasa/cache with the one-process run's components.
NO_CACHE = {**ENV, "RASA_MAX_CACHE_SIZE": "0", "CI_TOOLKIT_RASA": RASA}
TOOLKIT = [sys.executable, "-m", "ci_toolkit.cli"]
GENERATED_SMALLEST = 5  # examples of greet and goodbye, whatever --examples says


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(argv: list[str], *, cwd: Path, log_file: Path) -> dict[str, float]:
    """Run ``argv`` to its end; its wall time and the CPU time of its process tree (the
    children's rusage grows by every descendant that was waited for, here: all of rasa's)."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    cpu, started = _children_cpu(), time.monotonic()
    with log_file.open("w") as output:
        done = subprocess.run(argv, cwd=cwd, env=NO_CACHE, stdout=output,
                              stderr=subprocess.STDOUT)
    wall, cpu = time.monotonic() - started, _children_cpu() - cpu
    if done.returncode != 0:
        tail = log_file.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}); log {log_file}:\n{tail}")
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}


def one_process(source: Path, work: Path, folds: int) -> dict[str, Any]:
    project = fresh_copy(source, work, "one-process")
    out = work / "one-process-results"
    run = measured([RASA, "test", "nlu", "--cross-validation", "--folds", str(folds),
                    "--config", "config.yml", "--nlu", "data", "--domain", "domain.yml",
                    "--out", str(out)], cwd=project, log_file=work / "logs" / "one-process.log")
    report = json.loads((out / "intent_report.json").read_text())
    return {**run, "intent_f1": report["weighted avg"]["f1-score"],
            "intent_accuracy": report["accuracy"]}


def shard(source: Path, work: Path, fold: int,
          args: argparse.Namespace) -> tuple[dict[str, Any], Path]:
    project = fresh_copy(source, work, f"shard-{fold}")
    argv = [*TOOLKIT, "cross-validate", str(project), "--shard", f"{fold}/{args.folds}",
            "--seed", str(args.split_seed), "--rasa", RASA]
    if not args.train_metrics:
        argv.append("--no-train-metrics")
    run = measured(argv, cwd=REPO, log_file=work / "logs" / f"shard-{fold}.log")
    report = (project / "results" / "cross-validate" / f"shard-{fold}-of-{args.folds}"
              / "shard-report.json")
    if not report.is_file():
        raise SystemExit(f"shard {fold}/{args.folds} wrote no {report}")
    return {"fold": fold, **run}, report


def merge(reports: list[Path], work: Path) -> dict[str, Any]:
    merged = work / "merged" / "report.json"
    merged.unlink(missing_ok=True)  # an existing report would be updated, not written anew
    run = measured([*TOOLKIT, "merge", *map(str, reports), "--report", str(merged)], cwd=REPO,
                   log_file=work / "logs" / "merge.log")
    intents = json.loads(merged.read_text())["cross_validation"]["intent_classification"]
    pooled, test_f1 = intents["pooled"], intents["test"]["f1_score"]
    return {**run, "intent_f1": pooled["weighted_avg"]["f1_score"],
            "intent_accuracy": pooled["accuracy"], "fold_test_f1_mean": test_f1["mean"],
            "fold_test_f1_std": test_f1["std"]}


def repeat(source: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    log(f"  one process: rasa test nlu --cross-validation --folds {args.folds}")
    single = one_process(source, work, args.folds)
    log(f"    {single['wall_s']:.1f} s wall, {single['cpu_s']:.1f} s CPU")
    shards, reports = [], []
    for fold in range(1, args.folds + 1):
        log(f"  shard {fold}/{args.folds}")
        measured_shard, report = shard(source, work, fold, args)
        shards.append(measured_shard)
        reports.append(report)
        log(f"    {measured_shard['wall_s']:.1f} s wall, {measured_shard['cpu_s']:.1f} s CPU")
    log("  merge")
    merged = merge(reports, work)
    log(f"    {merged['wall_s']:.1f} s wall")
    return {"one_process": single, "shards": shards, "merge": merged}


def save(record: dict[str, Any], out_json: Path, results_md: Path) -> None:
    history = json.loads(out_json.read_text()) if out_json.exists() else []
    out_json.write_text(json.dumps([*history, record], indent=1) + "\n")
    text = results_md.read_text() if results_md.exists() else ""
    results_md.write_text(sharded_cv_report.replace_section(
        text, sharded_cv_report.render_section(record)))


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intents", type=int, default=200)
    parser.add_argument("--examples", type=int, default=10, help="examples per intent")
    parser.add_argument("--seed", type=int, default=7, help="the generator's seed")
    parser.add_argument("--epochs", type=int, default=LARGE_EPOCHS,
                        help="of DIET, ResponseSelector and TED, as in run_benchmarks.py")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--split-seed", type=int, default=0, help="the shards' --seed")
    parser.add_argument("--no-train-metrics", dest="train_metrics", action="store_false",
                        help="pass --no-train-metrics to the shards")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out-json", type=Path, default=sharded_cv_report.RESULTS_FILE)
    parser.add_argument("--write-results", type=Path, default=REPO / "benchmarks" / "RESULTS.md")
    args = parser.parse_args()
    if args.folds < 2 or args.repeats < 1 or args.intents < 1:
        parser.error("--folds must be 2 or more, --repeats and --intents 1 or more")
    # The split refuses an intent with fewer examples than folds (rasa would drop it).
    if args.folds > min(args.examples, GENERATED_SMALLEST):
        parser.error(f"--folds must be at most --examples ({args.examples}) and at most "
                     f"{GENERATED_SMALLEST}, the examples of the generator's greet and goodbye "
                     "intents: each intent needs an example in every fold")
    return args


def main() -> None:
    args = arguments()
    with tempfile.TemporaryDirectory(prefix="ci-toolkit-sharded-cv-") as tmp:
        work = Path(tmp)
        count = generate(work / "source", intents=args.intents, examples=args.examples,
                         seed=args.seed, epochs=args.epochs)
        log(f"generated: {args.intents} intents, {count} examples")
        runs = []
        for index in range(args.repeats):
            log(f"repeat {index + 1}/{args.repeats}")
            runs.append(repeat(work / "source", work / f"repeat-{index + 1}", args))
    parameters = {"intents": args.intents, "examples": args.examples, "nlu_examples": count,
                  "seed": args.seed, "epochs": args.epochs, "folds": args.folds,
                  "split_seed": args.split_seed, "train_metrics": args.train_metrics,
                  "repeats": args.repeats}
    record = {"date": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "commit": commit(),
              "machine": machine(), "load_average": round(os.getloadavg()[0], 2),
              "parameters": parameters, "runs": runs,
              "summary": sharded_cv_report.summary(runs)}
    save(record, args.out_json, args.write_results)
    figures = record["summary"]
    log(f"critical path {figures['critical_path_s']:.1f} s = {figures['ratio']:.2f} x one "
        f"process (goal <= {figures['goal']}: {'met' if figures['goal_met'] else 'not met'}); "
        f"wrote {args.out_json} and {args.write_results}")


if __name__ == "__main__":
    main()
