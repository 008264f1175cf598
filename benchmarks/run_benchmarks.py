"""Measure the pipeline against the raw rasa command sequence; write benchmarks/RESULTS.md.

    scripts/benchmark.sh [--repeats 3] [--large-intents 200] [--skip-large]

Scenarios, on the example assistant and on a generated larger one:
  raw       the commands RasaHQ/rasa-train-test-gha runs: validate, train, test nlu,
            test core, NLU cross-validation (3 folds), one after the other
  cold      `ci-toolkit run --cross-validation` with an empty cache
  jobs2     the same with --jobs 2 (cold)
  nochange  again, nothing changed
  response  after a change to a response text
  nlu       after a change to the NLU data
  story     after a change to a story
plus `ci-toolkit --help` start-up and the summary of a 300-intent report.
Each figure is the median of --repeats runs; every run is recorded in results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.generate_assistant import generate  # noqa: E402
from tests import project_changes  # noqa: E402

RASA = os.environ.get("CI_TOOLKIT_RASA", "rasa")
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false",
       "PYTHONWARNINGS": "ignore::DeprecationWarning"}
FOLDS = "3"


def timed(argv: list[str], *, cwd: Path) -> float:
    started = time.monotonic()
    done = subprocess.run(argv, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    if done.returncode not in (0,):
        raise SystemExit(f"{' '.join(argv)} failed with {done.returncode} in {cwd}")
    return elapsed


def raw_sequence(project: Path) -> float:
    """RTT's order: validate, train, test nlu, test core, cross-validation."""
    total = 0.0
    total += timed([RASA, "data", "validate", "--config", "config.yml", "--domain", "domain.yml",
                    "--data", "data"], cwd=project)
    total += timed([RASA, "train", "--config", "config.yml", "--domain", "domain.yml", "--data",
                    "data", "--out", "models", "--fixed-model-name", "raw"], cwd=project)
    total += timed([RASA, "test", "nlu", "--model", "models/raw.tar.gz", "--nlu", "data",
                    "--out", "results"], cwd=project)
    total += timed([RASA, "test", "core", "--model", "models/raw.tar.gz", "--stories", "tests",
                    "--out", "results"], cwd=project)
    total += timed([RASA, "test", "nlu", "--cross-validation", "--folds", FOLDS, "--config",
                    "config.yml", "--nlu", "data", "--out", "results/cv"], cwd=project)
    return total


def toolkit(project: Path, *extra: str) -> tuple[float, dict]:
    argv = [sys.executable, "-m", "ci_toolkit.cli", "run", str(project), "--cross-validation",
            "--folds", FOLDS, *extra]
    started = time.monotonic()
    done = subprocess.run(argv, env={**ENV, "CI_TOOLKIT_RASA": RASA}, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    report = json.loads((project / "reports" / "report.json").read_text())
    if done.returncode != 0:
        raise SystemExit(f"ci-toolkit run failed on {project}: {report['stages']}")
    return elapsed, report


def fresh_copy(source: Path, workdir: Path, name: str) -> Path:
    target = workdir / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(
        "models", "results", "reports", ".rasa", ".ci-toolkit"))
    return target


def warm_copy(warm: Path, workdir: Path, name: str) -> Path:
    target = workdir / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(warm, target, ignore=shutil.ignore_patterns("results", "reports"))
    return target


def rasa_seconds(report: dict) -> float:
    return sum(s["duration_s"] for s in report["stages"] if not s["cached"])


def measure_project(source: Path, workdir: Path, repeats: int, log: Callable[[str], None]) -> dict:
    runs: dict[str, list[dict]] = {k: [] for k in
                                   ("raw", "cold", "jobs2", "nochange", "response", "nlu", "story")}
    changes = {"response": project_changes.change_response_text,
               "nlu": project_changes.change_nlu_data, "story": project_changes.change_story}
    for index in range(repeats):
        log(f"  repeat {index + 1}/{repeats}: raw rasa sequence")
        runs["raw"].append({"wall_s": raw_sequence(fresh_copy(source, workdir, "raw"))})
        log("  ci-toolkit run, cold")
        warm = fresh_copy(source, workdir, "warm")
        wall, report = toolkit(warm)
        runs["cold"].append({"wall_s": wall, "rasa_s": rasa_seconds(report),
                             "ran": [s["name"] for s in report["stages"] if not s["cached"]]})
        log("  ci-toolkit run --jobs 2, cold")
        wall, report = toolkit(fresh_copy(source, workdir, "jobs2"), "--jobs", "2")
        runs["jobs2"].append({"wall_s": wall, "rasa_s": rasa_seconds(report)})
        for name in ("nochange", *changes):
            log(f"  ci-toolkit run after: {name}")
            project = warm_copy(warm, workdir, name)
            if name in changes:
                changes[name](project)
            wall, report = toolkit(project)
            runs[name].append({"wall_s": wall, "rasa_s": rasa_seconds(report),
                               "ran": [s["name"] for s in report["stages"]
                                       if not s["cached"] and s["status"] != "skipped"]})
    return runs


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def startup_times(repeats: int = 15) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "ci_toolkit.cli", "--help"], check=True,
                       stdout=subprocess.DEVNULL)
        times.append(time.monotonic() - started)
    return times


def summary_times(repeats: int = 20) -> list[float]:
    """Build and render the PR comment of a 300-intent report against its baseline."""
    from ci_toolkit.summary import build_summary
    from ci_toolkit.summary_render import render_markdown

    inputs = REPO / "tests" / "fixtures" / "summary" / "inputs"
    report = json.loads((inputs / "300-intents.json").read_text())
    baseline = json.loads((inputs / "300-intents-baseline.json").read_text())
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        render_markdown(build_summary(report, baseline))
        times.append(time.perf_counter() - started)
    return times


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "?")
    rasa = subprocess.run([sys.executable, "-c", "from ci_toolkit.rasa.runner import detect_rasa_version as d;"
                           f"print(d({RASA!r}))"], capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} cores ({cpu}), {int(memory) // 1024 // 1024} GiB RAM, "
            f"{platform.platform()}, toolkit on Python {platform.python_version()}, rasa {rasa}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--large-repeats", type=int, default=1)
    parser.add_argument("--large-intents", type=int, default=200)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks")
    args = parser.parse_args()

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    results: dict = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "projects": {}}
    log("ci-toolkit --help start-up")
    results["startup_s"] = startup_times()
    log("summary of a 300-intent report")
    results["summary_300_s"] = summary_times()
    with tempfile.TemporaryDirectory(prefix="ci-toolkit-bench-") as tmp:
        workdir = Path(tmp)
        projects = {"example (coffeebot)": (REPO / "examples" / "coffeebot", args.repeats)}
        if not args.skip_large:
            large = workdir / "large-source"
            generate(large, intents=args.large_intents, examples=12, seed=7)
            projects[f"generated ({args.large_intents} intents, {args.large_intents * 12 + 10} examples)"] = \
                (large, args.large_repeats)
        for name, (source, repeats) in projects.items():
            log(f"{name}")
            results["projects"][name] = measure_project(source, workdir, repeats, log)
            (args.out / "results.json").write_text(json.dumps(results, indent=1))
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    (args.out / "RESULTS.md").write_text(render(results, args))
    log(f"wrote {args.out / 'RESULTS.md'}")


def render(results: dict, args: argparse.Namespace) -> str:
    lines = ["# Benchmark results", "",
             f"Measured {results['date']} with `scripts/benchmark.sh` "
             f"(benchmarks/run_benchmarks.py); raw runs in `benchmarks/results.json`.", "",
             f"Machine: {results['machine']}.", "",
             "Figures are medians over the repeats shown; times are wall-clock seconds.", ""]
    for name, runs in results["projects"].items():
        raw = median([r["wall_s"] for r in runs["raw"]])
        cold = median([r["wall_s"] for r in runs["cold"]])
        cold_rasa = median([r["rasa_s"] for r in runs["cold"]])
        lines += [f"## {name}", "",
                  f"Repeats: {len(runs['raw'])}.", "",
                  "| scenario | wall (s) | vs raw sequence | vs cold | stages that ran |",
                  "|---|---:|---:|---:|---|"]
        lines.append(f"| raw rasa sequence (RTT) | {raw:.1f} | 1.00 | | all |")
        for key, label in (("cold", "ci-toolkit run, cold"), ("jobs2", "cold, --jobs 2"),
                           ("nochange", "no change"), ("response", "response text changed"),
                           ("nlu", "NLU data changed"), ("story", "story changed")):
            wall = median([r["wall_s"] for r in runs[key]])
            ran = runs[key][-1].get("ran")
            ran_text = ", ".join(ran) if ran else ("none" if ran is not None else "all")
            lines.append(f"| {label} | {wall:.1f} | {wall / raw:.2f} | {wall / cold:.2f} | {ran_text} |")
        overhead = (cold - cold_rasa) / cold * 100
        lines += ["", f"Toolkit overhead in the cold run (wall time not spent in rasa): "
                      f"{cold - cold_rasa:.1f} s, {overhead:.1f} % of the wall time.", ""]
    startup = median(results["startup_s"])
    summary = median(results["summary_300_s"])
    lines += ["## Start-up and summary", "",
              f"- `ci-toolkit --help`: {startup:.3f} s (median of {len(results['startup_s'])}).",
              f"- Summary Markdown of a 300-intent report: {summary * 1000:.1f} ms "
              f"(median of {len(results['summary_300_s'])}).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
