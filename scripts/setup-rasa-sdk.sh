#!/usr/bin/env bash
# Create (once) a Python 3.10 virtual environment with a rasa-sdk release that has the gRPC
# action server and domain caching (rasa-sdk >= 3.9), and print the path of its `python` on
# the last line of stdout. The rasa environment (scripts/setup-rasa.sh) keeps the rasa-sdk
# that rasa 3.6 pins (3.6.x), so the newer SDK lives in an environment of its own.
#
#   RASA_SDK_VERSION         rasa-sdk release to install          (default 3.21.1)
#   CI_TOOLKIT_RASA_SDK_HOME where the environment is created     (default ~/.cache/ci-toolkit/rasa-sdk-$RASA_SDK_VERSION)
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RASA_SDK_VERSION="${RASA_SDK_VERSION:-3.21.1}"
SDK_HOME="${CI_TOOLKIT_RASA_SDK_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/ci-toolkit/rasa-sdk-$RASA_SDK_VERSION}"

# Parallel test sessions may ask at once: one installs, the others wait for it.
mkdir -p "$(dirname "$SDK_HOME")"
exec 9>"$SDK_HOME.lock"
flock 9

if "$SDK_HOME/bin/python" -c "import importlib.metadata as m, grpc; assert m.version('rasa-sdk') == '$RASA_SDK_VERSION'" 2>/dev/null; then
    say "rasa-sdk $RASA_SDK_VERSION is ready in $SDK_HOME"
else
    PYTHON310="$(find_python310)" || {
        say "error: rasa-sdk $RASA_SDK_VERSION is installed with Python 3.10, and none was found. Install python3.10 (for example with pyenv) and run this again."
        exit 1
    }
    say "Installing rasa-sdk $RASA_SDK_VERSION with $PYTHON310 into $SDK_HOME ..."
    rm -rf "$SDK_HOME"
    "$PYTHON310" -m venv "$SDK_HOME"
    # rasa-sdk depends on grpcio and its generated stubs; it is named here too because the
    # gRPC client of the contract tests imports it directly.
    if ! quiet_pip "$SDK_HOME/bin/pip" install --quiet --disable-pip-version-check "rasa-sdk==$RASA_SDK_VERSION" grpcio; then
        say "error: pip could not install rasa-sdk==$RASA_SDK_VERSION (see above)."
        rm -rf "$SDK_HOME"
        exit 1
    fi
fi
echo "$SDK_HOME/bin/python"
