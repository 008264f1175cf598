"""The "Model loads of the test stages" section of benchmarks/RESULTS.md, from
benchmarks/results-model-loads.json (written by benchmarks/model_loads.py)."""

from __future__ import annotations

import json
from pathlib import Path
from statistics import median
from typing import Any

RESULTS_FILE = Path(__file__).resolve().parent / "results-model-loads.json"


def section() -> list[str]:
    """The section's lines, or none before the benchmark has run."""
    if not RESULTS_FILE.exists():
        return []
    return render_section(json.loads(RESULTS_FILE.read_text()))


def render_section(results: dict[str, Any]) -> list[str]:
    """The RESULTS.md section: medians per assistant, every run listed."""
    lines = ["## Model loads of the test stages", "",
             "Written by `benchmarks/model_loads.py`: `rasa test core` + `rasa test nlu` as two "
             "processes against `ci-toolkit test --jobs 1`, which runs both in one rasa "
             "interpreter that loads the model once, for evaluation only "
             "(ci_toolkit/rasa/evaluator.py, evaluator_worker.py), measured one after the "
             "other in each repeat. \"one load\" is `Agent.load` of the model alone, with "
             "rasa's own load (which runs a one-batch training step first) and with the "
             "evaluation-only load. \"same files\" compares every JSON and YAML file rasa "
             "wrote with the raw run's; every command runs with PYTHONHASHSEED=0, since rasa "
             "sums a report's averages in the order of a Python set (runs before 2026-12-01 "
             "20:30 did not fix it: a difference there in intent_report.json alone may be "
             "the last bit of an average).", ""]
    for name, runs in results.get("projects", {}).items():
        lines += _project_table(name, runs)
    if results.get("findings"):
        lines += ["### Earlier findings, not repeated by the run above", "",
                  *(f"- {finding}" for finding in results["findings"]), ""]
    return lines


def _one_load(runs: list[dict[str, Any]]) -> str:
    text = f"One load alone: rasa's own, median {median([r['load_s'] for r in runs]):.1f} s"
    evaluation = [r["evaluation_load_s"] for r in runs if "evaluation_load_s" in r]
    if evaluation:
        text += f"; for evaluation only, median {median(evaluation):.1f} s"
    return text + "."


def _project_table(name: str, runs: list[dict[str, Any]]) -> list[str]:
    raw = median([r["raw"]["wall_s"] for r in runs])
    rows = [("raw: two rasa commands", [r["raw"] for r in runs], raw),
            ("ci-toolkit test --jobs 1", [r["toolkit"] for r in runs], raw)]
    for variant in runs[0]["variants"]:
        rows.append((f"ci-toolkit test --jobs 1, {variant}",
                     [r["variants"][variant] for r in runs], raw))
    lines = [f"### {name}", "",
             f"Repeats: {len(runs)} (ended {', '.join(r['date'] for r in runs)}; 1-minute load "
             f"average when each ended: {', '.join(str(round(r['load_average'], 1)) for r in runs)}"
             f"). {_one_load(runs)}", "",
             "| run | wall (s), median | runs (s) | vs raw | model loads | same files |",
             "|---|---:|---|---:|---:|---|"]
    for label, measured, reference in rows:
        wall = median([m["wall_s"] for m in measured])
        same = "yes" if not any(m.get("differs") for m in measured) else (
            "no: " + ", ".join(sorted({d for m in measured for d in m.get("differs", [])})))
        each = ", ".join(f"{m['wall_s']:.1f}" for m in measured)
        lines.append(f"| {label} | {wall:.1f} | {each} | "
                     f"{wall / reference:.2f} | {measured[0]['loads']} | "
                     f"{same if label.startswith('ci-toolkit') else '(reference)'} |")
    return [*lines, ""]
