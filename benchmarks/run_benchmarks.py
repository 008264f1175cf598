"""Measure the pipeline against the raw rasa command sequence; write benchmarks/RESULTS.md.

    scripts/benchmark.sh [--repeats 3] [--large-repeats 1] [--large-intents 200] [--append]

Scenarios, on the example assistant and on a generated larger one:
  raw       the commands RasaHQ/rasa-train-test-gha runs: validate, train, test nlu,
            test core, NLU cross-validation (3 folds), one after the other
  cold      `ci-toolkit run --cross-validation --jobs 1` with an empty cache
  jobs2     the same with --jobs 2 (the default on 2 cores)
  jobs3     the same with --jobs 3, the most stages that can run at once
  nochange  again (--jobs 1), nothing changed
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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks import (  # noqa: E402
    action_contracts,
    generate_assistant,
    model_loads_report,
    plot_text,
    sharded_cv_report,
)
from benchmarks.generate_assistant import generate  # noqa: E402
from benchmarks.peak_memory import PeakMemory  # noqa: E402
from tests import project_changes  # noqa: E402

RASA = os.environ.get("CI_TOOLKIT_RASA", "rasa")
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false",
       "PYTHONWARNINGS": "ignore::DeprecationWarning"}
FOLDS = "3"
# The generated assistant trains with fewer epochs than the example, so that one repeat of
# every scenario on 2,000 examples fits in about half an hour on 2 cores.
LARGE_EPOCHS = 10


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
    process = subprocess.Popen(argv, env={**ENV, "CI_TOOLKIT_RASA": RASA},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with PeakMemory(process.pid) as memory:
        returncode = process.wait()
    elapsed = time.monotonic() - started
    report = json.loads((project / "reports" / "report.json").read_text())
    if returncode != 0:
        raise SystemExit(f"ci-toolkit run failed on {project}: {report['stages']}")
    report["peak_memory_gib"] = round(memory.peak_bytes / 2**30, 2)
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


SCENARIOS = ("raw", "cold", "jobs2", "jobs3", "nochange", "response", "nlu", "story")
# These start from the cache of the cold --jobs 1 run, so asking for one runs that too.
WARM_SCENARIOS = ("nochange", "response", "nlu", "story")


def measure_repeat(source: Path, workdir: Path, log: Callable[[str], None],
                   record: Callable[[str, dict], None], changes_module: Any,
                   scenarios: Sequence[str] = SCENARIOS) -> None:
    """One run of every scenario, each recorded as soon as it is measured. The change
    scenarios run with --jobs 1, so that what they save is the cache's doing alone; `jobs2`
    and `jobs3` are the cold run with two and three jobs."""
    changes = {"response": changes_module.change_response_text,
               "nlu": changes_module.change_nlu_data, "story": changes_module.change_story}
    if "raw" in scenarios:
        log("  raw rasa sequence")
        record("raw", {"wall_s": raw_sequence(fresh_copy(source, workdir, "raw"))})
    warm = fresh_copy(source, workdir, "warm")
    if "cold" in scenarios or any(name in scenarios for name in WARM_SCENARIOS):
        log("  ci-toolkit run --jobs 1, cold")
        wall, report = toolkit(warm, "--jobs", "1")
        record("cold", {"wall_s": wall, "rasa_s": rasa_seconds(report),
                        "peak_memory_gib": report["peak_memory_gib"],
                        "ran": [s["name"] for s in report["stages"] if not s["cached"]]})
    for jobs in ("2", "3"):
        if f"jobs{jobs}" in scenarios:
            log(f"  ci-toolkit run --jobs {jobs}, cold")
            wall, report = toolkit(fresh_copy(source, workdir, f"jobs{jobs}"), "--jobs", jobs)
            record(f"jobs{jobs}", {"wall_s": wall, "rasa_s": rasa_seconds(report),
                                   "peak_memory_gib": report["peak_memory_gib"]})
    for name in [n for n in ("nochange", *changes) if n in scenarios]:
        log(f"  ci-toolkit run --jobs 1 after: {name}")
        project = warm_copy(warm, workdir, name)
        if name in changes:
            changes[name](project)
        wall, report = toolkit(project, "--jobs", "1")
        record(name, {"wall_s": wall, "rasa_s": rasa_seconds(report),
                      "ran": [s["name"] for s in report["stages"]
                              if not s["cached"] and s["status"] != "skipped"]})


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
    from ci_toolkit.report.model import Report
    from ci_toolkit.summary.build import build_summary
    from ci_toolkit.summary.markdown import render_markdown

    inputs = REPO / "tests" / "fixtures" / "summary" / "inputs"
    report = Report.from_dict(json.loads((inputs / "300-intents.json").read_text()))
    baseline = Report.from_dict(json.loads((inputs / "300-intents-baseline.json").read_text()))
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
    rasa = subprocess.run([sys.executable, "-c", "from ci_toolkit.rasa.runner import installed_rasa_version as d;"
                           f"print(d({RASA!r}))"], capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} cores ({cpu}), {int(memory) // 1024 // 1024} GiB RAM, "
            f"{platform.platform()}, toolkit on Python {platform.python_version()}, rasa {rasa}")


def commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                          text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                           capture_output=True, text=True).stdout.strip()
    return done.stdout.strip() + ("+changes" if dirty else "") if done.returncode == 0 else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of the example")
    parser.add_argument("--large-repeats", type=int, default=1, help="runs of the large one")
    parser.add_argument("--large-intents", type=int, default=200)
    parser.add_argument("--large-examples", type=int, default=10, help="examples per intent")
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--skip-example", action="store_true")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help="comma-separated; the change scenarios and nochange start from "
                             "the cache of the cold --jobs 1 run, so they run it too")
    parser.add_argument("--append", action="store_true",
                        help="add these runs to those already in results.json")
    parser.add_argument("--render-only", action="store_true",
                        help="only write RESULTS.md again from results.json")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks")
    args = parser.parse_args()
    results_file = args.out / "results.json"

    def log(message: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)

    def save() -> None:
        # After every run, so that a stopped benchmark still leaves what it measured.
        results_file.write_text(json.dumps(results, indent=1) + "\n")
        (args.out / "RESULTS.md").write_text(render(results))

    if args.render_only:
        results = json.loads(results_file.read_text())
        save()
        return
    results = json.loads(results_file.read_text()) if args.append else {"projects": {}}
    results.update(machine=machine(), date=time.strftime("%Y-%m-%d"))
    log("ci-toolkit --help start-up")
    results["startup_s"] = startup_times()
    log("summary of a 300-intent report")
    results["summary_300_s"] = summary_times()
    with tempfile.TemporaryDirectory(prefix="ci-toolkit-bench-") as tmp:
        workdir = Path(tmp)
        projects = {}
        if not args.skip_example:
            projects["example (coffeebot)"] = (REPO / "examples" / "coffeebot", args.repeats,
                                               project_changes)
        if not args.skip_large:
            large = workdir / "large-source"
            examples = generate(large, intents=args.large_intents, examples=args.large_examples,
                                seed=7, epochs=LARGE_EPOCHS)
            projects[f"generated ({args.large_intents} intents, {examples} examples, seed 7)"] = \
                (large, args.large_repeats, generate_assistant)
        # Alternate the projects, so that an early stop still leaves some of each.
        scenarios = args.scenarios.split(",")
        for index in range(max(repeats for _, repeats, _ in projects.values())):
            for name, (source, repeats, changes_module) in projects.items():
                if index >= repeats:
                    continue
                log(f"{name}: repeat {index + 1}/{repeats}")
                stored = results["projects"].setdefault(name, {k: [] for k in SCENARIOS})

                def record(scenario: str, run: dict, stored: dict = stored) -> None:
                    stamp = {"date": time.strftime("%Y-%m-%d %H:%M"), "commit": commit()}
                    stored.setdefault(scenario, []).append({**run, **stamp})
                    save()

                measure_repeat(source, workdir, log, record, changes_module, scenarios)
    log(f"wrote {args.out / 'RESULTS.md'}")


def day(run: dict) -> str:
    return run.get("date", "?")[:10]


def runs_by_day(runs: list[dict]) -> str:
    """'364.7, 377.6 (11-22); 231.1 (11-30)': runs in the order measured, grouped by day."""
    days: dict[str, list[str]] = {}
    for run in runs:
        days.setdefault(day(run)[5:], []).append(f"{run['wall_s']:.1f}")
    return "; ".join(f"{', '.join(walls)} ({date})" for date, walls in days.items())


def same_day_ratio(runs: dict, key: str, reference: str) -> float | None:
    """How `key` compares with `reference`, only ever on runs of the same day (the machine's
    speed can differ between days): the median over shared days of the two days' medians."""
    ratios = []
    for shared in sorted({day(r) for r in runs.get(key, [])}):
        walls = [r["wall_s"] for r in runs[key] if day(r) == shared]
        reference_walls = [r["wall_s"] for r in runs.get(reference, []) if day(r) == shared]
        if reference_walls:
            ratios.append(median(walls) / median(reference_walls))
    return median(ratios) if ratios else None


def ratio_cell(runs: dict, key: str, reference: str) -> str:
    ratio = same_day_ratio(runs, key, reference)
    return f"{ratio:.2f}" if ratio is not None else "not on one day"


def code_version(run: dict) -> str:
    """The commit a run measured: "+changes" marks uncommitted files, which during a
    benchmark are its own results (results.json, RESULTS.md) once the first run is saved."""
    return run.get("commit", "?").removesuffix("+changes")


def latest_cell(runs: dict, key: str) -> str:
    """The scenario's last run, against the cold `--jobs 1` run of the same code and day and
    the raw sequence of the same day: the medians of the other columns mix every day's code."""
    if not runs.get(key):
        return ""
    last = runs[key][-1]
    cells = [f"{last['wall_s']:.1f}"]
    colds = [r for r in runs.get("cold", [])
             if code_version(r) == code_version(last) and day(r) == day(last)]
    if key not in ("cold", "raw") and colds:
        cells.append(f"{last['wall_s'] / colds[-1]['wall_s']:.3f}x cold")
    raws = [r["wall_s"] for r in runs.get("raw", []) if day(r) == day(last)]
    if key != "raw" and raws:
        cells.append(f"{last['wall_s'] / median(raws):.3f}x raw")
    return f"{', '.join(cells)} ({code_version(last)}, {day(last)[5:]})"


def render(results: dict) -> str:
    lines = ["# Benchmark results", "",
             "Written by `scripts/benchmark.sh` (benchmarks/run_benchmarks.py); every run, with "
             "its date and commit, is in `benchmarks/results.json`.", "",
             f"Machine: {results['machine']}.", "",
             "Figures are medians over the repeats shown; times are wall-clock seconds. Ratios "
             "compare runs of the same day only. The raw "
             "sequence is the rasa commands RasaHQ/rasa-train-test-gha runs, one after the "
             "other. `ci-toolkit run` cold with `--jobs 1` runs the same work in the same "
             "order; `--jobs 2` is the default (auto) on this 2-core machine, and `--jobs 3` "
             "runs three rasa processes on its two cores. The change "
             "scenarios start from the cold run's cache and use `--jobs 1`, so what they save "
             "is the cache's doing alone. The medians and ratios take in every day's runs, "
             "whatever code they measured; the latest-run column compares the last run "
             "with the cold run of the same code and day.", ""]
    for name, runs in results["projects"].items():
        cold = median([r["wall_s"] for r in runs["cold"]])
        cold_rasa = median([r["rasa_s"] for r in runs["cold"]])
        overheads = [(r["wall_s"] - r["rasa_s"]) for r in runs["cold"]]
        dates = sorted({day(r) for rs in runs.values() for r in rs})
        counts = [len(rs) for rs in runs.values() if rs]
        span = str(max(counts)) if min(counts) == max(counts) else f"{min(counts)} to {max(counts)}"
        across_days = (" Runs are grouped by day: the machine's speed differed between "
                       "days, as the same scenario's runs show." if len(dates) > 1 else "")
        lines += [f"## {name}", "",
                  f"Runs per scenario: {span} ({', '.join(dates)}); the "
                  f"runs column lists every one.{across_days}", "",
                  "| scenario | wall (s), median | runs (s) | vs raw sequence | vs cold | "
                  "latest run (code, day) | stages that ran |",
                  "|---|---:|---|---:|---:|---|---|"]

        def row(label: str, key: str, ran: str | None = None) -> str:
            walls = [r["wall_s"] for r in runs.get(key, [])]
            if not walls:
                return f"| {label} | not measured | | | | | |"
            wall = median(walls)
            every = runs_by_day(runs[key]) if len(dates) > 1 else ", ".join(
                f"{w:.1f}" for w in walls)
            if ran is None:
                names = runs[key][-1].get("ran")
                ran = ", ".join(names) if names else ("none" if names is not None else "all")
            versus_raw = ratio_cell(runs, key, "raw")
            versus_cold = ratio_cell(runs, key, "cold") if key != "raw" else ""
            return (f"| {label} | {wall:.1f} | {every} | {versus_raw} | {versus_cold} | "
                    f"{latest_cell(runs, key)} | {ran} |")

        lines.append(row("raw rasa sequence (RTT)", "raw", "all"))
        for key, label in (("cold", "ci-toolkit run, cold, --jobs 1"),
                           ("jobs2", "ci-toolkit run, cold, --jobs 2 (default)"),
                           ("jobs3", "ci-toolkit run, cold, --jobs 3"),
                           ("nochange", "no change"), ("response", "response text changed"),
                           ("nlu", "NLU data changed"), ("story", "story changed")):
            lines.append(row(label, key, "all" if key.startswith("jobs") else None))
        lines.append("")
        jobs3_to_jobs2 = same_day_ratio(runs, "jobs3", "jobs2")
        if jobs3_to_jobs2 is not None:
            lines += [f"`--jobs 3` took {jobs3_to_jobs2:.2f} times as long as `--jobs 2` "
                      "measured on the same day.", ""]
        peaks = [(label, [r["peak_memory_gib"] for r in runs.get(key, [])
                          if "peak_memory_gib" in r])
                 for key, label in (("cold", "--jobs 1"), ("jobs2", "--jobs 2"),
                                    ("jobs3", "--jobs 3"))]
        measured = [f"{label} {median(values):.2f} GiB (of {len(values)})"
                    for label, values in peaks if values]
        if measured:
            lines += ["Peak resident memory of the whole run, every rasa process it started "
                      f"together (sampled every 0.5 s, median): {'; '.join(measured)}.", ""]
        if overheads:
            lines += [f"Toolkit overhead in the cold `--jobs 1` run (wall time not spent in "
                      f"rasa): median {median(overheads):.1f} s, "
                      f"{(cold - cold_rasa) / cold * 100:.1f} % of the wall time.", ""]
    startup = median(results["startup_s"])
    summary = median(results["summary_300_s"])
    lines += ["## Start-up and summary", "",
              f"- `ci-toolkit --help`: {startup:.3f} s (median of {len(results['startup_s'])}).",
              f"- Summary Markdown of a 300-intent report against its baseline: "
              f"{summary * 1000:.1f} ms (median of {len(results['summary_300_s'])}).", ""]
    lines += model_loads_report.section()
    lines += sharded_cv_report.section()
    lines += plot_text.section()
    lines += action_contracts.section()
    return "\n".join(lines)


if __name__ == "__main__":
    main()
