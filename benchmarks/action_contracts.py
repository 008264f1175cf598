"""Benchmark: `ci-toolkit actions test` on the example and on a generated assistant with 50
custom actions, over HTTP and over gRPC, with the rasa-sdk >= 3.9 environment of
scripts/setup-rasa-sdk.sh.

For each run: the wall time of the whole command (domain and cases read, server started,
checks, server stopped, unit tests looked for) and the share of it spent starting the server
(until it answered /health, or the gRPC Actions call). The runs go to
benchmarks/results-action-contracts.json and the section "Action-server contract tests" of
benchmarks/RESULTS.md. Usage:

    .venv/bin/python benchmarks/action_contracts.py [--runs 1] [--actions 50]
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
from datetime import datetime, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import requests  # noqa: E402

from benchmarks import results_md  # noqa: E402
from ci_toolkit.actions.request import ActionsRequest  # noqa: E402
from ci_toolkit.actions.workflow import run_contract_tests  # noqa: E402
from ci_toolkit.proc import Console  # noqa: E402

RESULTS_JSON = REPO_ROOT / "benchmarks" / "results-action-contracts.json"
RESULTS_MD = REPO_ROOT / "benchmarks" / "RESULTS.md"
SECTION = "## Action-server contract tests"
ACTION = '''

class Action{n}(Action):
    def name(self) -> str:
        return "action_step_{n}"

    def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(response="utter_step_{n}")
        return [SlotSet("step_{n}", tracker.get_slot("step_{n}") or "done")]
'''


def generate(out: Path, actions: int) -> Path:
    """An assistant whose domain has ``actions`` custom actions, each setting its slot and
    uttering its response."""
    (out / "actions").mkdir(parents=True)
    (out / "actions" / "__init__.py").write_text("")
    code = "from rasa_sdk import Action\nfrom rasa_sdk.events import SlotSet\n"
    code += "".join(ACTION.format(n=n) for n in range(actions))
    (out / "actions" / "actions.py").write_text(code)
    lines = ["version: \"3.1\"", "intents:", "  - greet", "slots:"]
    for n in range(actions):
        lines += [f"  step_{n}:", "    type: text", "    mappings:", "      - type: custom"]
    lines.append("responses:")
    for n in range(actions):
        lines += [f"  utter_step_{n}:", f"    - text: \"Step {n} done.\""]
    lines.append("actions:")
    lines += [f"  - action_step_{n}" for n in range(actions)]
    (out / "domain.yml").write_text("\n".join(lines) + "\n")
    return out


def sdk_python() -> str:
    done = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "setup-rasa-sdk.sh")],
                          check=True, capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]


def measure(project: Path, python: str, grpc: bool) -> dict[str, object]:
    results = project / "results" / "actions"
    shutil.rmtree(results, ignore_errors=True)
    request = ActionsRequest(project_dir=project, python=python, grpc=grpc)
    started = time.monotonic()
    with requests.Session() as session:
        result = run_contract_tests(request, session=session, console=Console(quiet=True))
    wall = time.monotonic() - started
    startup = result.server.startup_s or 0.0
    return {"wall_s": round(wall, 3), "startup_s": round(startup, 3),
            "startup_share": round(startup / wall, 3), "checks": len(result.checks),
            "passed": result.passed}


def _row(name: str, transport: str, samples: list[dict[str, object]]) -> str:
    walls = [float(str(sample["wall_s"])) for sample in samples]
    startups = [float(str(sample["startup_s"])) for sample in samples]
    wall, startup = statistics.median(walls), statistics.median(startups)
    checks = samples[0]["checks"]
    passed = all(sample["passed"] for sample in samples)
    return (f"| {name} | {transport} | {checks} | {wall:.2f} | {startup:.2f} | "
            f"{startup / wall:.0%} | {'yes' if passed else 'no'} |")


# A 1-minute load average above this on the 2-core machines means other work shared the CPUs.
BUSY_LOAD = 1.5


def _load_caveat(load_average: float) -> str:
    if load_average <= BUSY_LOAD:
        return ""
    return (" The machine was shared and loaded by other work during the run: read the "
            "figures as an order of magnitude, not a baseline.")

def section() -> list[str]:
    """The section of the latest recorded run, or none before the benchmark has run (for
    benchmarks/run_benchmarks.py, which writes RESULTS.md as a whole)."""
    if not RESULTS_JSON.exists():
        return []
    return [*section_lines(json.loads(RESULTS_JSON.read_text())[-1])]


def section_lines(record: dict[str, object]) -> list[str]:
    rows = [_row(str(run["project"]), str(run["transport"]), list(run["samples"]))  # type: ignore[arg-type]
            for run in record["runs"]]  # type: ignore[attr-defined]
    return [
        SECTION, "",
        "Written by `benchmarks/action_contracts.py`: the whole `ci-toolkit actions test` "
        "(server started and stopped by the command) with rasa-sdk "
        f"{record['sdk_version']} (scripts/setup-rasa-sdk.sh); \"start-up\" is the time until "
        "the server answered (/health, or the gRPC Actions call).", "",
        f"Repeats: {record['repeats']} (ended {record['ended']}; 1-minute load average when it "
        f"ended: {record['load_average']}).{_load_caveat(record['load_average'])}", "",
        "| project | transport | checks | wall (s), median | start-up (s) | start-up share "
        "| all passed |",
        "|---|---|---:|---:|---:|---:|---|", *rows, ""]


def write_section(record: dict[str, object]) -> None:
    RESULTS_MD.write_text(results_md.replace_section(RESULTS_MD.read_text(), SECTION,
                                                     section_lines(record)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--actions", type=int, default=50)
    args = parser.parse_args()
    python = sdk_python()
    version = subprocess.run([python, "-c", "import rasa_sdk; print(rasa_sdk.__version__)"],
                             check=True, capture_output=True, text=True).stdout.strip()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        example = Path(shutil.copytree(REPO_ROOT / "examples" / "coffeebot",
                                       Path(tmp) / "coffeebot"))
        generated = generate(Path(tmp) / f"generated-{args.actions}", args.actions)
        for name, project in (("example (coffeebot)", example),
                              (f"generated ({args.actions} actions)", generated)):
            for transport in ("http", "grpc"):
                samples = [measure(project, python, transport == "grpc")
                           for _ in range(args.runs)]
                runs.append({"project": name, "transport": transport, "samples": samples})
                print(name, transport, samples, flush=True)
    record = {"ended": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
              "repeats": args.runs, "sdk_version": version,
              "load_average": round(os.getloadavg()[0], 1), "machine": platform.platform(),
              "runs": runs}
    history = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else []
    RESULTS_JSON.write_text(json.dumps([*history, record], indent=1) + "\n")
    write_section(record)


if __name__ == "__main__":
    main()
