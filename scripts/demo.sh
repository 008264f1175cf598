#!/usr/bin/env bash
# Run the whole CI pipeline for real on the example assistant: rasa data validate, rasa
# train, rasa test core + nlu, 3-fold cross-validation, then the Markdown summary.
# Sets up everything it needs first (a virtualenv for the toolkit, rasa on Python 3.10).
#
#   scripts/demo.sh [extra `ci-toolkit run` options]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ensure_toolkit_venv ""
ensure_rasa

EXAMPLE="$REPO_ROOT/examples/coffeebot"
say "ci-toolkit run examples/coffeebot --cross-validation"
status=0
"$VENV/bin/ci-toolkit" run "$EXAMPLE" --cross-validation --folds 3 "$@" || status=$?
if [ -f "$EXAMPLE/reports/report.json" ]; then
    "$VENV/bin/ci-toolkit" summary "$EXAMPLE/reports/report.json" --no-comment \
        --output "$EXAMPLE/reports/summary.md" >/dev/null
    say "Summary: examples/coffeebot/reports/summary.md; report: examples/coffeebot/reports/report.json"
fi
exit "$status"
