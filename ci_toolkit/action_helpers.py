"""The steps of the composite actions that come before ci-toolkit is installed.

The actions (action.yml, action-server/action.yml, deploy/action.yml) run this module with
the interpreter that actions/setup-python provides, from the root of the action's checkout:

    python -m ci_toolkit.action_helpers prepare     # check inputs, compute cache keys
    python -m ci_toolkit.action_helpers install     # make a venv with rasa and ci-toolkit

At that point only the standard library is available, so this module (and the ci_toolkit
modules it imports: errors, gha, interrupts, proc) must import nothing else. Anything an action
needs beyond one command line lives here, where it is tested, instead of in bash.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ci_toolkit import __version__, interrupts
from ci_toolkit.errors import Interrupted, ToolkitError, UsageError
from ci_toolkit.gha import ActionsRuntime, report_error
from ci_toolkit.proc import Console, run

# Environment variables this module reads. The action.yml contract test checks that every
# env var an action step sets for this module is in here.
ENV_VARS_READ: tuple[str, ...] = (
    "CI_TOOLKIT_RASA_VERSION",
    "CI_TOOLKIT_RASA_IMAGE",
    "CI_TOOLKIT_RASA_REQUIREMENTS",
    "CI_TOOLKIT_WORKSPACE",
    "CI_TOOLKIT_CONFIGURATION",
    "CI_TOOLKIT_DOMAIN",
    "CI_TOOLKIT_DATA",
    "CI_TOOLKIT_CACHE_DIR",
    # Set by the runner for every step.
    "GITHUB_WORKSPACE",
    "RUNNER_OS",
    "RUNNER_ARCH",
    "RUNNER_TEMP",
)

# Step outputs each subcommand writes (the contract test checks action.yml against these).
OUTPUTS: dict[str, tuple[str, ...]] = {
    "prepare": ("rasa_version", "pip_cache_dir", "pip_cache_key", "pip_cache_restore_key",
                "cache_paths", "cache_key", "cache_restore_key"),
    "install": ("bin_dir", "rasa", "ci_toolkit"),
}

DEFAULT_RASA_VERSION = "3.6.21"
# The actions install rasa from PyPI, so a Docker tag such as "3.6.21-full" names the
# release "3.6.21"; PEP 440 pre- and post-releases are accepted as they are.
_RASA_RELEASE = re.compile(
    r"^(?P<release>\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?)"
    r"(?P<suffix>-[A-Za-z0-9][A-Za-z0-9._-]*)?$"
)
_FLOATING_TAGS = ("latest", "stable", "main", "master", "nightly")


@dataclass(frozen=True)
class RasaVersion:
    release: str
    notice: str | None = None  # set when the given value was changed


def normalize_rasa_version(value: str | None) -> RasaVersion:
    """Turn the ``rasa_version`` input into a release pip can install, or explain why not.

    RasaHQ/rasa-train-test-gha took Docker tags (``3.6.21-full``, default ``latest-full``).
    A tag's suffix is stripped with a notice; a floating tag is refused, because pinning the
    version is what makes one run comparable with the next.
    """
    given = (value or "").strip()
    if not given:
        return RasaVersion(DEFAULT_RASA_VERSION)
    head = given.split("-", 1)[0].lower()
    if head in _FLOATING_TAGS:
        raise UsageError(
            f"rasa_version '{given}' is not supported: ci-toolkit installs one pinned rasa "
            "release so that every run trains and tests with the same rasa, and the "
            "baseline deltas compare like with like. Set rasa_version to a release, for "
            f"example `rasa_version: {DEFAULT_RASA_VERSION}` (the version your "
            "requirements.txt pins)."
        )
    match = _RASA_RELEASE.match(given.removeprefix("v"))
    if match is None:
        raise UsageError(
            f"rasa_version '{given}' is not a rasa release. Use a version such as "
            f"{DEFAULT_RASA_VERSION}."
        )
    release = match.group("release")
    if not release.startswith("3."):
        raise UsageError(
            f"rasa_version '{given}' is not supported: ci-toolkit drives the rasa 3 command "
            f"line. Use a 3.x release such as {DEFAULT_RASA_VERSION}."
        )
    if match.group("suffix") or given != release:
        return RasaVersion(release, notice=(
            f"rasa_version '{given}' looks like a Docker image tag; installing rasa=={release} "
            "from PyPI instead (this action does not run rasa in Docker). If your pipeline "
            "needs the extra packages of the -full image (spaCy, transformers, ...), list "
            "them in a requirements file and pass it as rasa_requirements."
        ))
    return RasaVersion(release)


def _workspace(environ: Mapping[str, str]) -> Path:
    root = Path(environ.get("GITHUB_WORKSPACE") or os.getcwd())
    given = environ.get("CI_TOOLKIT_WORKSPACE") or ""
    path = Path(given) if given else root
    return path if path.is_absolute() else root / path


def _under(workspace: Path, given: str | None, default: str) -> Path:
    path = Path(given) if given else Path(default)
    return path if path.is_absolute() else workspace / path


def _model_input_files(environ: Mapping[str, str], workspace: Path) -> list[Path]:
    """The files that decide what a trained model is: config, domain and training data."""
    config = _under(workspace, environ.get("CI_TOOLKIT_CONFIGURATION"), "config.yml")
    domain = _under(workspace, environ.get("CI_TOOLKIT_DOMAIN"), "domain.yml")
    if not environ.get("CI_TOOLKIT_DOMAIN") and not domain.exists():
        domain = workspace / "domain"  # rasa also takes a directory of domain files
    # click splits a multiple option's env var on whitespace; do the same.
    data = [_under(workspace, item, "data")
            for item in (environ.get("CI_TOOLKIT_DATA") or "data").split()]
    files: list[Path] = []
    for path in (config, domain, *data):
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
    return files


def content_digest(files: Sequence[Path], root: Path) -> str:
    """A short digest of the names and contents of ``files`` (stable across machines)."""
    digest = hashlib.sha256()
    for path in sorted(files):
        try:
            name = path.relative_to(root).as_posix()
        except ValueError:
            name = path.as_posix()
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def pip_cache_dir(environ: Mapping[str, str]) -> Path:
    if environ.get("PIP_CACHE_DIR"):
        return Path(environ["PIP_CACHE_DIR"])
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pip"


def prepare(environ: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """Check the inputs; compute the rasa version and cache keys. Returns (outputs, notices)."""
    if (environ.get("CI_TOOLKIT_RASA_IMAGE") or "").strip():
        raise UsageError(
            "rasa_image is not supported: this action installs rasa with pip instead of "
            "running a Docker image. Remove rasa_image; set rasa_version to the rasa release, "
            "and list the packages your custom components need in a requirements file passed "
            "as rasa_requirements."
        )
    version = normalize_rasa_version(environ.get("CI_TOOLKIT_RASA_VERSION"))
    workspace = _workspace(environ)
    runner = f"{environ.get('RUNNER_OS', 'Linux')}-{environ.get('RUNNER_ARCH', 'X64')}"
    python = f"py{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"

    requirements = _requirements_file(environ, workspace)
    pip_inputs = hashlib.sha256(__version__.encode())
    if requirements is not None:
        pip_inputs.update(requirements.read_bytes())
    pip_prefix = f"ci-toolkit-pip-{runner}-{python}-rasa{version.release}-"

    cache_dir = _under(workspace, environ.get("CI_TOOLKIT_CACHE_DIR"), ".ci-toolkit/cache")
    stage_prefix = f"ci-toolkit-stages-{runner}-rasa{version.release}-"
    digest = content_digest(_model_input_files(environ, workspace), workspace)
    outputs = {
        "rasa_version": version.release,
        "pip_cache_dir": str(pip_cache_dir(environ)),
        "pip_cache_key": pip_prefix + pip_inputs.hexdigest()[:20],
        "pip_cache_restore_key": pip_prefix,
        # rasa's own cache of trained components, and ci-toolkit's cache of stage results.
        "cache_paths": "\n".join([str(workspace / ".rasa" / "cache"), str(cache_dir)]),
        "cache_key": stage_prefix + digest,
        "cache_restore_key": stage_prefix,
    }
    return outputs, [version.notice] if version.notice else []


def _requirements_file(environ: Mapping[str, str], workspace: Path) -> Path | None:
    given = (environ.get("CI_TOOLKIT_RASA_REQUIREMENTS") or "").strip()
    if not given:
        return None
    path = _under(workspace, given, given)
    if not path.is_file():
        raise UsageError(
            f"rasa_requirements names {path}, which does not exist. Pass a pip requirements "
            "file relative to the workspace, or leave rasa_requirements empty."
        )
    return path


def install_plan(environ: Mapping[str, str], *, source: Path, with_rasa: bool,
                 python: str) -> tuple[Path, list[list[str]]]:
    """The virtual environment to create and the commands that fill it."""
    temp = Path(environ.get("RUNNER_TEMP") or (Path.home() / ".cache"))
    venv = temp / "ci-toolkit" / ("venv" if with_rasa else "venv-toolkit")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
           "--progress-bar", "off"]
    packages = [str(source)]
    if with_rasa:
        version = normalize_rasa_version(environ.get("CI_TOOLKIT_RASA_VERSION"))
        # One resolver run for rasa, its extras and ci-toolkit, so a conflict fails here.
        packages.insert(0, f"rasa=={version.release}")
        requirements = _requirements_file(environ, _workspace(environ))
        if requirements is not None:
            packages += ["-r", str(requirements)]
    commands = [[python, "-m", "venv", str(venv)], pip + packages]
    return venv, commands


def install(environ: Mapping[str, str], runtime: ActionsRuntime, *, with_rasa: bool,
            source: Path, console: Console) -> dict[str, str]:
    """Create the venv, install into it, put its bin/ on PATH for the next steps."""
    venv, commands = install_plan(environ, source=source, with_rasa=with_rasa,
                                  python=sys.executable)
    if (venv / "bin" / "python").exists():
        commands = commands[1:]  # the action ran before in this job; pip tops it up
    for argv in commands:
        with runtime.group(f"$ {' '.join(argv)}"):
            done = run(argv, label="install", console=console)
        if done.returncode != 0:
            raise ToolkitError(
                f"Installing into {venv} failed (exit code {done.returncode}); pip's output "
                "above says which package could not be installed. Check rasa_version and "
                "rasa_requirements."
            )
    bin_dir = venv / "bin"
    path_file = runtime.environ.get("GITHUB_PATH")
    if path_file:
        with Path(path_file).open("a", encoding="utf-8") as handle:
            handle.write(f"{bin_dir}\n")
    return {
        "bin_dir": str(bin_dir),
        "rasa": str(bin_dir / "rasa") if with_rasa else "",
        "ci_toolkit": str(bin_dir / "ci-toolkit"),
    }


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ci_toolkit.action_helpers",
                                     description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("prepare", help="check the inputs; print rasa version and cache keys")
    installer = commands.add_parser("install", help="create a venv with rasa and ci-toolkit")
    installer.add_argument("--without-rasa", action="store_true",
                           help="install only ci-toolkit (the image and deploy actions)")
    arguments = parser.parse_args(argv)

    environ = dict(os.environ if environ is None else environ)
    runtime = ActionsRuntime(environ)
    # pip and venv run in sessions of their own (proc.py): stop them on a signal.
    with interrupts.handle_signals():
        try:
            _run(arguments, environ, runtime)
        except Interrupted as stop:
            return interrupts.report(stop)
        except ToolkitError as error:
            return report_error(error, runtime)
        except OSError as error:
            # A file the step needs (workspace, requirements, $GITHUB_OUTPUT) cannot be used.
            return report_error(ToolkitError(str(error)), runtime)
    return 0


def _run(arguments: argparse.Namespace, environ: Mapping[str, str],
         runtime: ActionsRuntime) -> None:
    if arguments.command == "prepare":
        outputs, notices = prepare(environ)
        for notice in notices:
            print(f"notice: {notice}", file=sys.stderr)
            runtime.annotate("notice", notice, title="rasa_version")
    else:
        outputs = install(environ, runtime, with_rasa=not arguments.without_rasa,
                          source=Path(__file__).resolve().parent.parent, console=Console())
    for name, value in outputs.items():
        print(f"{name}: {value}", file=sys.stderr)
    runtime.set_outputs(outputs)


if __name__ == "__main__":
    sys.exit(main())
