"""rasa's intent confusion matrix for a large assistant, drawn by rasa's own plotting function
and by the model evaluator's worker, which keeps matplotlib's text sizes and layouts for the
whole plot and pauses the garbage collector (ci_toolkit/rasa/evaluator_worker.py,
`_cache_text_layout`).

    scripts/benchmark.sh --plot-text [--intents 200] [--repeats 1]

Each variant runs in a fresh rasa interpreter, one after the other, on the same matrix (the
shape of the generated assistant's: a diagonal of correct predictions and a few confusions
per row, every cell labelled as rasa labels it). Both PNGs are hashed: the two must be equal.
Results: benchmarks/results-plot-text.json, and their section in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks import results_md  # noqa: E402
from ci_toolkit.rasa.evaluator import WORKER, rasa_interpreter  # noqa: E402

RESULTS_FILE = Path(__file__).resolve().parent / "results-plot-text.json"
HEADING = "## Plots: one confusion matrix of a large assistant"
_DRAW = """
import hashlib, json, sys, time
import numpy as np
intents, variant, target = int(sys.argv[1]), sys.argv[2], sys.argv[3]
if variant == "worker":
    sys.path.insert(0, sys.argv[4])
    import evaluator_worker
    evaluator_worker._cache_text_layout()
from rasa.utils import plotting
rng = np.random.default_rng(7)
matrix = np.zeros((intents, intents), dtype=int)
for row in range(intents):
    matrix[row, row] = rng.integers(0, 10)
    for column in rng.integers(0, intents, 3):
        matrix[row, column] += rng.integers(0, 3)
classes = [f"topic_{i}_ask_about_it" for i in range(intents)]
started = time.monotonic()
plotting.plot_confusion_matrix(matrix, classes, title="Intent Confusion matrix",
                               output_file=target)
seconds = time.monotonic() - started
print(json.dumps({"seconds": seconds,
                  "sha256": hashlib.sha256(open(target, "rb").read()).hexdigest()}))
"""


def draw(python: str, intents: int, variant: str, target: Path) -> dict[str, Any]:
    done = subprocess.run([python, "-c", _DRAW, str(intents), variant, str(target),
                           str(WORKER.parent)], capture_output=True, text=True, check=False,
                          env={**os.environ, "MPLBACKEND": "agg"})
    if done.returncode != 0:
        raise SystemExit(f"drawing with {variant} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def render_section(record: dict[str, Any]) -> list[str]:
    rasa = [run["rasa"]["seconds"] for run in record["runs"]]
    worker = [run["worker"]["seconds"] for run in record["runs"]]
    same = all(run["rasa"]["sha256"] == run["worker"]["sha256"] for run in record["runs"])
    rasa_s, worker_s = sorted(rasa)[len(rasa) // 2], sorted(worker)[len(worker) // 2]
    return [
        HEADING, "",
        "Written by `benchmarks/plot_text.py` (`scripts/benchmark.sh --plot-text`). rasa's "
        f"`plot_confusion_matrix` of a {record['intents']}-intent matrix "
        f"({record['intents'] ** 2:,} cell labels), as `rasa test nlu` draws it, in a fresh "
        "rasa interpreter: as rasa draws it, and in the model evaluator's worker (text sizes "
        "and layouts kept for the whole plot, garbage collector paused). Median of "
        f"{len(record['runs'])} run(s), seconds.", "",
        f"Run ended {record['date']} UTC, commit {record['commit']}. Machine: "
        f"{record['machine']}.", "",
        "| drawn by | seconds | PNG |", "|---|---:|---|",
        f"| rasa | {rasa_s:.1f} | |",
        f"| the worker | {worker_s:.1f} ({worker_s / rasa_s:.2f}x) | "
        f"{'the same bytes' if same else 'DIFFERENT bytes'} |", ""]


def section(results_file: Path = RESULTS_FILE) -> list[str]:
    """The section of the latest recorded run, or none before the benchmark has run."""
    if not results_file.exists():
        return []
    history = json.loads(results_file.read_text())
    return render_section(history[-1]) if history else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intents", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    # Here, not at the top: run_benchmarks renders this module's section into RESULTS.md.
    from benchmarks.run_benchmarks import RASA, commit, machine

    python = rasa_interpreter(RASA)
    if python is None:
        raise SystemExit(f"{RASA} is not a Python script: its interpreter is needed")
    out = Path(os.environ.get("TMPDIR", "/tmp"))
    runs = []
    for repeat in range(args.repeats):
        run = {variant: draw(python, args.intents, variant, out / f"plot-text-{variant}.png")
               for variant in ("rasa", "worker")}
        print(f"repeat {repeat + 1}: rasa {run['rasa']['seconds']:.1f} s, worker "
              f"{run['worker']['seconds']:.1f} s, same PNG: "
              f"{run['rasa']['sha256'] == run['worker']['sha256']}", file=sys.stderr)
        runs.append(run)
    record = {"date": time.strftime("%Y-%m-%d %H:%M"), "commit": commit(),
              "machine": machine(), "intents": args.intents, "runs": runs}
    history = json.loads(RESULTS_FILE.read_text()) if RESULTS_FILE.exists() else []
    RESULTS_FILE.write_text(json.dumps([*history, record], indent=1) + "\n")
    results = REPO / "benchmarks" / "RESULTS.md"
    text = results.read_text() if results.exists() else ""
    results.write_text(results_md.replace_section(text, HEADING, render_section(record)))


if __name__ == "__main__":
    main()
