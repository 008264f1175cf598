#!/usr/bin/env bash
# Measure the pipeline against the raw rasa command sequence (see benchmarks/run_benchmarks.py)
# and write benchmarks/RESULTS.md. On a 2-core machine one repeat takes about 40 minutes on the
# example and about 50 on the generated assistant; --append adds runs to results.json,
# and --scenarios picks some (for instance --scenarios jobs2,jobs3 on a bigger machine).
#
#   scripts/benchmark.sh [--repeats 3] [--large-repeats 1] [--large-intents 200] [--append]
#   scripts/benchmark.sh --model-loads [--repeats 2] [--skip-large]   (benchmarks/model_loads.py)
#   scripts/benchmark.sh --sharded-cv [--intents 200] [--folds 5] [--repeats 1]
#                                     (benchmarks/sharded_cv.py; see its --help)
#   scripts/benchmark.sh --plot-text [--intents 200] [--repeats 1]   (benchmarks/plot_text.py)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ensure_toolkit_venv "[test]"
ensure_rasa
cd "$REPO_ROOT"
if [[ "${1:-}" == "--model-loads" ]]; then  # the test stages' model loads (model_loads.py)
    shift
    exec "$VENV/bin/python" benchmarks/model_loads.py "$@"
fi
if [[ "${1:-}" == "--sharded-cv" ]]; then  # one-process vs sharded cross-validation (sharded_cv.py)
    shift
    exec "$VENV/bin/python" benchmarks/sharded_cv.py "$@"
fi
if [[ "${1:-}" == "--plot-text" ]]; then  # one confusion matrix, rasa's and the worker's way
    shift
    exec "$VENV/bin/python" benchmarks/plot_text.py "$@"
fi
exec "$VENV/bin/python" benchmarks/run_benchmarks.py "$@"
