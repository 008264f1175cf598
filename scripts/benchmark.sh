#!/usr/bin/env bash
# Measure the pipeline against the raw rasa command sequence (see benchmarks/run_benchmarks.py)
# and write benchmarks/RESULTS.md. Takes about an hour on a 2-core machine.
#
#   scripts/benchmark.sh [--repeats 3] [--large-intents 200] [--skip-large]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ensure_toolkit_venv "[test]"
ensure_rasa
cd "$REPO_ROOT"
exec "$VENV/bin/python" benchmarks/run_benchmarks.py "$@"
