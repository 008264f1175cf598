#!/usr/bin/env bash
# Create (once) a Python 3.10 virtual environment with the pinned rasa release, and print
# the path of its `rasa` executable on the last line of stdout.
#
#   RASA_VERSION        rasa release to install            (default 3.6.21)
#   CI_TOOLKIT_RASA_HOME where the environment is created  (default ~/.cache/ci-toolkit/rasa-$RASA_VERSION)
#
# Rasa 3.6 needs Python >=3.8,<3.11; the toolkit itself runs on any Python >= 3.10.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"  # find_python310

RASA_VERSION="${RASA_VERSION:-3.6.21}"
RASA_HOME="${CI_TOOLKIT_RASA_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/ci-toolkit/rasa-$RASA_VERSION}"

# Several processes (parallel test sessions, a demo and the tests) may ask at once:
# one installs, the others wait for it.
mkdir -p "$(dirname "$RASA_HOME")"
exec 9>"$RASA_HOME.lock"
flock 9

if [ -x "$RASA_HOME/bin/rasa" ] && "$RASA_HOME/bin/python" -c "import importlib.metadata as m; assert m.version('rasa') == '$RASA_VERSION'" 2>/dev/null; then
    echo "rasa $RASA_VERSION is ready in $RASA_HOME" >&2
else
    PYTHON310="$(find_python310)" || {
        echo "error: rasa $RASA_VERSION needs Python 3.10, and none was found. Install python3.10 (for example with pyenv) and run this again." >&2
        exit 1
    }
    echo "Installing rasa $RASA_VERSION with $PYTHON310 into $RASA_HOME (a few minutes the first time) ..." >&2
    rm -rf "$RASA_HOME"
    "$PYTHON310" -m venv "$RASA_HOME"
    "$RASA_HOME/bin/pip" install --quiet --upgrade pip 2>&1 | grep -v "is ignored" >&2 || true
    # pip's own progress is noise here; its errors still reach stderr.
    if ! "$RASA_HOME/bin/pip" install --quiet "rasa==$RASA_VERSION" 2> >(grep -v -e "is ignored" -e "DEPRECATION" >&2); then
        echo "error: pip could not install rasa==$RASA_VERSION (see above)." >&2
        rm -rf "$RASA_HOME"
        exit 1
    fi
fi
echo "$RASA_HOME/bin/rasa"
