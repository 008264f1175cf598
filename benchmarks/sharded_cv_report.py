"""The "Sharded cross-validation" section of benchmarks/RESULTS.md, from
benchmarks/results-sharded-cv.json (written by benchmarks/sharded_cv.py): the arithmetic of
the critical path and the section's text, kept apart from the runs so that both can be tested
without rasa."""

from __future__ import annotations

import json
from pathlib import Path
from statistics import median
from typing import Any

from benchmarks import results_md

RESULTS_FILE = Path(__file__).resolve().parent / "results-sharded-cv.json"
HEADING = "## Sharded cross-validation"
# The requirement: a matrix's critical path at most this share of the one-process wall time.
GOAL = 0.3


def run_figures(run: dict[str, Any]) -> dict[str, Any]:
    """What one repeat shows. Each matrix job has a machine of its own, so the shards run at
    the same time and the matrix waits for the slowest one; the merge job comes after it."""
    shards = run["shards"]
    slowest = max(shards, key=lambda shard: shard["wall_s"])
    critical = slowest["wall_s"] + run["merge"]["wall_s"]
    one_wall, one_cpu = run["one_process"]["wall_s"], run["one_process"]["cpu_s"]
    shard_cpu = sum(shard["cpu_s"] for shard in shards)
    return {"slowest_fold": slowest["fold"], "slowest_shard_s": slowest["wall_s"],
            "critical_path_s": critical, "ratio": critical / one_wall,
            "goal_met": critical / one_wall <= GOAL,
            "shards_wall_sum_s": sum(shard["wall_s"] for shard in shards),
            "shards_cpu_s": shard_cpu, "cpu_ratio": shard_cpu / one_cpu}


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the repeats of each repeat's figures; the goal is judged on the median."""
    each = [run_figures(run) for run in runs]
    keys = ("slowest_shard_s", "critical_path_s", "ratio", "shards_wall_sum_s",
            "shards_cpu_s", "cpu_ratio")
    medians = {key: median(figures[key] for figures in each) for key in keys}
    return {**medians, "goal": GOAL, "goal_met": medians["ratio"] <= GOAL,
            "slowest_folds": [figures["slowest_fold"] for figures in each]}


def _cell(values: list[float], digits: int = 1) -> str:
    """The median, followed by every repeat's value when there are several."""
    text = f"{median(values):.{digits}f}"
    if len(values) > 1:
        text += " (" + ", ".join(f"{value:.{digits}f}" for value in values) + ")"
    return text


def _rows(record: dict[str, Any]) -> list[str]:
    runs, folds = record["runs"], record["parameters"]["folds"]
    each = [run_figures(run) for run in runs]

    def row(label: str, walls: list[float], cpus: list[float] | None) -> str:
        return f"| {label} | {_cell(walls)} | {_cell(cpus) if cpus else ''} |"

    rows = [row(f"one process: `rasa test nlu --cross-validation --folds {folds}`",
                [r["one_process"]["wall_s"] for r in runs],
                [r["one_process"]["cpu_s"] for r in runs])]
    for index in range(folds):
        rows.append(row(f"shard {index + 1}/{folds} alone",
                        [r["shards"][index]["wall_s"] for r in runs],
                        [r["shards"][index]["cpu_s"] for r in runs]))
    rows.append(row(f"all {folds} shards together (one after the other)",
                    [f["shards_wall_sum_s"] for f in each], [f["shards_cpu_s"] for f in each]))
    rows.append(row("`ci-toolkit merge --report`", [r["merge"]["wall_s"] for r in runs],
                    [r["merge"]["cpu_s"] for r in runs]))
    rows.append(row("critical path of a matrix: slowest shard + merge",
                    [f["critical_path_s"] for f in each], None))
    return ["| run | wall (s) | CPU (s) |", "|---|---:|---:|", *rows]


def _findings(record: dict[str, Any]) -> list[str]:
    runs, figures = record["runs"], record["summary"]
    one_wall = median(r["one_process"]["wall_s"] for r in runs)
    one_cpu = median(r["one_process"]["cpu_s"] for r in runs)
    slowest = ", ".join(str(fold) for fold in figures["slowest_folds"])
    verdict = "met" if figures["goal_met"] else "not met"
    merged = median(r["merge"]["intent_f1"] for r in runs)
    rasa = median(r["one_process"]["intent_f1"] for r in runs)
    train = record["parameters"]["train_metrics"]
    commands = 3 if train else 2
    tests = "test on its training data, test on its fold" if train else "test on its fold"
    stds = [r["merge"]["fold_test_f1_std"] for r in runs if "fold_test_f1_std" in r["merge"]]
    spread = (f" The shards' own test F1 varied over the folds with a standard deviation of "
              f"{median(stds):.3f}; the difference, {abs(merged - rasa):.3f}, is "
              f"{abs(merged - rasa) / median(stds):.1f} of it." if stds and median(stds) else "")
    return [
        f"- Slowest shard: {figures['slowest_shard_s']:.1f} s (fold {slowest}). Critical path "
        f"{figures['critical_path_s']:.1f} s = {figures['ratio']:.2f} of the one-process wall "
        f"time, {one_wall:.1f} s: the goal, at most {GOAL} of it, is **{verdict}**.",
        f"- CPU time of all shards together: {figures['shards_cpu_s']:.1f} s, "
        f"{figures['cpu_ratio']:.2f} times the one-process run's {one_cpu:.1f} s: what the "
        f"matrix costs in machine time. Each shard runs {commands} rasa commands (train, "
        f"{tests}) in one rasa interpreter (the model evaluator): rasa and TensorFlow are "
        "imported once, and the fold's model is loaded once, for evaluation only.",
        f"- Pooled intent classification, weighted F1: {merged:.3f} merged from the shards, "
        f"{rasa:.3f} in rasa's own intent_report.json of the one-process run. They are not "
        "expected to be equal: rasa splits with an unseeded shuffle, the shards with the "
        f"toolkit's seeded split, and training is itself random; a sanity check only.{spread}",
        ""]


def render_section(record: dict[str, Any]) -> list[str]:
    """The section's lines for one benchmark run (all its repeats)."""
    p = record["parameters"]
    train = ("each shard also tests its model on its own training data (the default "
             "`--train-metrics`), as rasa's cross-validation does" if p["train_metrics"]
             else "the shards ran with `--no-train-metrics`")
    repeats = len(record["runs"])
    medians = (f" Figures are medians of {repeats} repeats, each repeat's value in "
               "parentheses." if repeats > 1 else "")
    return [
        HEADING, "",
        "Written by `benchmarks/sharded_cv.py` (`scripts/benchmark.sh --sharded-cv`). On the "
        f"generated assistant ({p['intents']} intents, {p['nlu_examples']} NLU examples, "
        f"generator seed {p['seed']}, epochs {p['epochs']}), {p['folds']}-fold "
        "cross-validation in one process, the raw rasa command `rasa test nlu "
        f"--cross-validation --folds {p['folds']}`, against the {p['folds']} shards "
        f"`ci-toolkit cross-validate --shard i/{p['folds']} --seed {p['split_seed']}` each run "
        "alone, one after the other, then `ci-toolkit merge --report` of their reports; "
        f"{train}. Every run starts from a fresh copy of the project with rasa's component "
        "cache off (`RASA_MAX_CACHE_SIZE=0`), so none reuses another's trained components. A "
        "CI matrix runs each shard on a machine of its own, so its critical path is the "
        "slowest shard plus the merge. CPU time is user + system time of the whole process "
        "tree (every process it started and waited for). Times in seconds." + medians, "",
        f"Run ended {record['date']} UTC, commit {record['commit']}, 1-minute load average "
        f"{record['load_average']:.1f}. Machine: {record['machine']}.", "",
        *_rows(record), "", *_findings(record)]


def replace_section(text: str, section: list[str]) -> str:
    """``text`` with this benchmark's section replaced by ``section``, or added at the end;
    every other section is left as it was, byte for byte."""
    return results_md.replace_section(text, HEADING, section)


def section(results_file: Path = RESULTS_FILE) -> list[str]:
    """The section of the latest recorded run, or none before the benchmark has run (for a
    renderer that writes RESULTS.md as a whole)."""
    if not results_file.exists():
        return []
    history = json.loads(results_file.read_text())
    return render_section(history[-1]) if history else []
