"""Model loads of the test stages: `rasa test core` + `rasa test nlu` as two commands against
`ci-toolkit test --jobs 1` (one load in the model evaluator), side by side in one run.

    scripts/benchmark.sh --model-loads [--repeats 2] [--skip-large] [--skip-example] [--append]
                                       [--thread-variants]

On the example and on the generated assistant (benchmarks/generate_assistant.py), after one
`rasa train`, each repeat runs, one after the other:
  raw        the two rasa commands, as separate processes (what the pipeline did before)
  toolkit    `ci-toolkit test --model M --jobs 1 --no-cache`: one load, for evaluation only
  load       `Agent.load` of the model alone, in rasa's interpreter, with rasa's own load and
             with the evaluation-only load (ci_toolkit/rasa/evaluator_worker.py)
  variants   the toolkit run with rasa's own load (CI_TOOLKIT_EVALUATION_LOAD=rasa), and with
             --thread-variants also with TensorFlow's thread pools set (TF_INTRA_OP_/
             TF_INTER_OP_PARALLELISM_THREADS)
Every toolkit run's result files are compared with the raw run's (JSON by value, YAML by
text); a variant that changes a number is reported as such. Every command runs with
PYTHONHASHSEED=0: rasa orders a report's labels by iterating a set, so the last bit of its
macro and weighted averages follows Python's per-process hash seed, and two runs of the same
raw command differ there too (tests/integration/test_model_evaluator.py fixes it the same way). Loads are counted from rasa's own
"Loading model" lines. Results: benchmarks/results-model-loads.json, rendered into
benchmarks/RESULTS.md by run_benchmarks.py.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.generate_assistant import generate  # noqa: E402
from benchmarks.model_loads_report import RESULTS_FILE  # noqa: E402
from benchmarks.run_benchmarks import ENV, LARGE_EPOCHS, RASA, commit, fresh_copy, machine  # noqa: E402

LOADING = "Loading model"
SAME_HASH_SEED = {"PYTHONHASHSEED": "0"}  # see the module's docstring
COMPARED = (".json", ".yml")
WORKER_DIR = REPO / "ci_toolkit" / "rasa"
VARIANTS: dict[str, dict[str, str]] = {
    "rasa's own load": {"CI_TOOLKIT_EVALUATION_LOAD": "rasa"},
}
THREAD_VARIANTS: dict[str, dict[str, str]] = {
    "TF threads 1/1": {"TF_INTRA_OP_PARALLELISM_THREADS": "1",
                       "TF_INTER_OP_PARALLELISM_THREADS": "1"},
    "TF threads 2/2": {"TF_INTRA_OP_PARALLELISM_THREADS": "2",
                       "TF_INTER_OP_PARALLELISM_THREADS": "2"},
}
_LOAD_ONLY = """
import sys, time
if sys.argv[2] == "evaluation":
    sys.path.insert(0, sys.argv[3])
    import evaluator_worker
    evaluator_worker._load_for_evaluation()
from rasa.core.agent import Agent
started = time.monotonic()
Agent.load(model_path=sys.argv[1])
print(f"LOAD_SECONDS={time.monotonic() - started}")
"""


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def _run(argv: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run(argv, cwd=cwd, env={**ENV, **SAME_HASH_SEED, **(env or {})}, text=True,
                          capture_output=True)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed, done.stdout + done.stderr


def train(project: Path) -> Path:
    _run([RASA, "train", "--config", "config.yml", "--domain", "domain.yml", "--data", "data",
          "--out", "models", "--fixed-model-name", "bench"], cwd=project)
    return project / "models" / "bench.tar.gz"


def raw_tests(project: Path, model: Path, out: Path) -> dict[str, Any]:
    core_s, core = _run([RASA, "test", "core", "--model", str(model), "--stories", "tests",
                         "--out", str(out / "core")], cwd=project)
    nlu_s, nlu = _run([RASA, "test", "nlu", "--model", str(model), "--nlu", "data",
                       "--out", str(out / "nlu"), "--domain", "domain.yml"], cwd=project)
    return {"wall_s": core_s + nlu_s, "core_s": core_s, "nlu_s": nlu_s,
            "loads": (core + nlu).count(LOADING)}


def toolkit_tests(project: Path, model: Path, out: Path,
                  env: dict[str, str] | None = None) -> dict[str, Any]:
    wall, _ = _run([sys.executable, "-m", "ci_toolkit.cli", "test", str(project), "--model",
                    str(model), "--jobs", "1", "--no-cache", "--result-dir", str(out),
                    "--report-dir", str(out / "report")],
                   cwd=REPO, env={"CI_TOOLKIT_RASA": RASA, **(env or {})})
    logs = "".join(p.read_text() for p in sorted((out / "logs").glob("test_*.log")))
    stages = json.loads((out / "report" / "report.json").read_text())["stages"]
    seconds = {s["name"]: s["duration_s"] for s in stages if s["status"] != "skipped"}
    return {"wall_s": wall, "core_s": seconds.get("test_core"),
            "nlu_s": seconds.get("test_nlu"), "loads": logs.count(LOADING)}


def load_only(model: Path, kind: str) -> float:
    """Seconds of one `Agent.load`: ``kind`` "rasa" (rasa's own) or "evaluation"."""
    python = str(Path(shutil.which(RASA) or RASA).resolve().parent / "python")
    _, output = _run([python, "-c", _LOAD_ONLY, str(model), kind, str(WORKER_DIR)], cwd=REPO)
    found = re.search(r"^LOAD_SECONDS=([0-9.]+)$", output, re.MULTILINE)
    if found is None:
        raise SystemExit(f"the load-only script printed no time:\n{output[-2000:]}")
    return float(found.group(1))


def differences(raw: Path, ours: Path) -> list[str]:
    """Result files that differ between the two runs (JSON by value)."""
    different = []
    for path in sorted(raw.rglob("*")):
        if path.suffix not in COMPARED or not path.is_file():
            continue
        mine = ours / path.relative_to(raw)
        if not mine.is_file():
            different.append(f"{mine.relative_to(ours)} missing")
        elif path.suffix == ".json":
            if json.loads(path.read_text()) != json.loads(mine.read_text()):
                different.append(str(path.relative_to(raw)))
        elif path.read_text() != mine.read_text():
            different.append(str(path.relative_to(raw)))
    return different


def measure(project: Path, model: Path, work: Path,
            variants: dict[str, dict[str, str]]) -> dict[str, Any]:
    shutil.rmtree(work, ignore_errors=True)
    raw = raw_tests(project, model, work / "raw")
    log(f"  raw: {raw['wall_s']:.1f} s, {raw['loads']} loads")
    ours = toolkit_tests(project, model, work / "toolkit")
    ours["differs"] = differences(work / "raw", work / "toolkit")
    log(f"  toolkit: {ours['wall_s']:.1f} s, {ours['loads']} loads, differs: {ours['differs']}")
    load_s = load_only(model, "rasa")
    evaluation_load_s = load_only(model, "evaluation")
    log(f"  one load: {load_s:.1f} s; for evaluation: {evaluation_load_s:.1f} s")
    measured = {}
    for name, env in variants.items():
        out = work / re.sub(r"[^a-z0-9]+", "-", name.lower())
        measured[name] = {**toolkit_tests(project, model, out, env),
                          "differs": differences(work / "raw", out)}
        log(f"  {name}: {measured[name]['wall_s']:.1f} s, differs: {measured[name]['differs']}")
    return {"raw": raw, "toolkit": ours, "load_s": load_s,
            "evaluation_load_s": evaluation_load_s, "variants": measured,
            "date": time.strftime("%Y-%m-%d %H:%M"), "commit": commit(),
            "load_average": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--skip-example", action="store_true",
                        help="measure the generated assistant only (with --append, the "
                             "example's earlier runs are kept)")
    parser.add_argument("--large-intents", type=int, default=200)
    parser.add_argument("--append", action="store_true")
    parser.add_argument("--thread-variants", action="store_true",
                        help="also run the toolkit with TensorFlow's thread pools set")
    args = parser.parse_args()
    variants = {**VARIANTS, **(THREAD_VARIANTS if args.thread_variants else {})}
    earlier = json.loads(RESULTS_FILE.read_text()) if RESULTS_FILE.exists() else {}
    results = earlier if args.append else {"projects": {}}
    # Findings of earlier runs that this one does not repeat, written down by hand.
    results["findings"] = earlier.get("findings", [])
    results["machine"] = machine()
    with tempfile.TemporaryDirectory(prefix="ci-toolkit-loads-") as tmp:
        workdir = Path(tmp)
        projects = {} if args.skip_example else {
            "example (coffeebot)": fresh_copy(REPO / "examples" / "coffeebot", workdir, "example")}
        if not args.skip_large:
            large = workdir / "large"
            examples = generate(large, intents=args.large_intents, examples=10, seed=7,
                                epochs=LARGE_EPOCHS)
            projects[f"generated ({args.large_intents} intents, {examples} examples, "
                     "seed 7)"] = large
        models = {}
        for name, project in projects.items():
            log(f"{name}: training")
            models[name] = train(project)
        for index in range(args.repeats):
            for name, project in projects.items():
                log(f"{name}: repeat {index + 1}/{args.repeats}")
                run = measure(project, models[name], workdir / "runs", variants)
                results["projects"].setdefault(name, []).append(run)
                RESULTS_FILE.write_text(json.dumps(results, indent=1) + "\n")
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "run_benchmarks.py"),
                    "--render-only"], check=True)


if __name__ == "__main__":
    main()
