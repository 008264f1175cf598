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

import sys

# The actions run this module with the Python set up for rasa (the `python_version` input),
# before anything is installed. ci-toolkit itself needs 3.10+ and is installed next to rasa,
# so an older interpreter is refused here, before any import that needs a newer one: this
# part of the file (and its syntax everywhere) must run on Python 3.8.
SUPPORTED_PYTHON = (3, 10)
SUPPORTED_RASA = "3.4 to 3.6"  # the rasa 3 releases that run on Python 3.10


def python_problem(version_info: tuple[int, ...]) -> str | None:
    """What is wrong with running the toolkit on ``version_info``, None when it can."""
    if tuple(version_info[:2]) >= SUPPORTED_PYTHON:
        return None
    found = ".".join(str(part) for part in version_info[:2])
    return (f"python_version is {found}, but ci-toolkit runs on Python 3.10 or newer and is "
            "installed next to rasa, so this action supports rasa " + SUPPORTED_RASA + " on "
            'Python 3.10. Set python_version: "3.10". Rasa 3.0 to 3.3 need Python 3.8 or 3.9 '
            "and are not supported: upgrade rasa (rasa_version, or the rasa pin in your "
            "requirements file) to 3.6.21.")


if __name__ == "__main__" and python_problem(sys.version_info) is not None:
    print(f"::error title=Unsupported Python::{python_problem(sys.version_info)}")
    sys.exit(2)

import argparse  # noqa: E402  (after the version check above, on purpose)
import hashlib  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
from collections.abc import Mapping, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

from ci_toolkit import __version__, interrupts  # noqa: E402
from ci_toolkit.errors import Interrupted, ToolkitError, UsageError  # noqa: E402
from ci_toolkit.gha import ActionsRuntime, mask_environment_secrets, report_error  # noqa: E402
from ci_toolkit.proc import Console, run  # noqa: E402

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
_OLDEST_RASA_MINOR = 4  # rasa 3.4 is the first rasa 3 that runs on Python 3.10
# `rasa==X` (with extras) in a pip requirements file; pipeline/project.py reads pins the same way.
RASA_PIN = re.compile(r"^\s*rasa(?:\[[^\]]*\])?\s*==\s*([0-9][0-9A-Za-z.+-]*)", re.M)


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
    # Not str.removeprefix: this must run on Python 3.8 to say that 3.8 is not supported.
    match = _RASA_RELEASE.match(given[1:] if given.startswith("v") else given)
    if match is None:
        raise UsageError(
            f"rasa_version '{given}' is not a rasa release. Use a version such as "
            f"{DEFAULT_RASA_VERSION}."
        )
    release = match.group("release")
    major, minor = (int(part) for part in release.split(".")[:2])
    if major != 3 or minor < _OLDEST_RASA_MINOR:
        raise UsageError(
            f"rasa_version '{given}' is not supported: ci-toolkit drives the rasa 3 command "
            f"line and runs in rasa's Python 3.10 environment, so it supports rasa "
            f"{SUPPORTED_RASA} (rasa 3.0 to 3.3 need Python 3.8 or 3.9). Use a release such "
            f"as {DEFAULT_RASA_VERSION}."
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
    for path in (config, domain, *data, *_component_packages(config, workspace)):
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
    return files


# A custom component's `name:` in config.yml is a dotted path; its top-level package is code
# that changes the model. A regex, not YAML: this module may import only the standard library.
_CUSTOM_COMPONENT = re.compile(r"""^[\s-]*name:\s*["']?([A-Za-z_]\w*)\.[\w.]+["']?\s*$""", re.M)


def _component_packages(config: Path, workspace: Path) -> list[Path]:
    if not config.is_file():
        return []
    tops = sorted(set(_CUSTOM_COMPONENT.findall(config.read_text(encoding="utf-8",
                                                                 errors="replace"))))
    return [path for top in tops for path in (workspace / top, workspace / f"{top}.py")
            if path.exists()]


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
    workspace = _workspace(environ)
    requirements = _requirements_file(environ, workspace)
    version = rasa_to_install(environ, requirements)
    runner = f"{environ.get('RUNNER_OS', 'Linux')}-{environ.get('RUNNER_ARCH', 'X64')}"
    python = f"py{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"

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


def rasa_to_install(environ: Mapping[str, str], requirements: Path | None) -> RasaVersion:
    """The rasa release of this run: ``rasa_version`` when given, else the requirements
    file's pin (read now, so a pull request that bumps it tests the new rasa), else the
    default. A given version that differs from the pin is refused: pip would fail on it."""
    given = (environ.get("CI_TOOLKIT_RASA_VERSION") or "").strip()
    pin = None
    if requirements is not None:
        found = RASA_PIN.search(requirements.read_text(encoding="utf-8", errors="replace"))
        pin = found.group(1) if found else None
    if not given:
        if pin is None:
            return normalize_rasa_version(None)
        try:
            return normalize_rasa_version(pin)
        except UsageError as error:
            raise UsageError(f"{requirements} pins rasa=={pin}: {error.message}") from error
    version = normalize_rasa_version(given)
    if pin is not None and pin != version.release:
        raise UsageError(
            f"rasa_version is {given} but {requirements} pins rasa=={pin}; pip cannot install "
            "both. Leave rasa_version empty to use the requirements file's pin, or make them "
            "the same."
        )
    return version


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
                 python: str, with_plotting: bool = False) -> tuple[Path, list[list[str]]]:
    """The virtual environment to create and the commands that fill it."""
    temp = Path(environ.get("RUNNER_TEMP") or (Path.home() / ".cache"))
    venv = temp / "ci-toolkit" / ("venv" if with_rasa else "venv-toolkit")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
           "--progress-bar", "off"]
    packages = [str(source)]
    if with_rasa:
        requirements = _requirements_file(environ, _workspace(environ))
        version = rasa_to_install(environ, requirements)
        # One resolver run for rasa, its extras and ci-toolkit, so a conflict fails here.
        packages.insert(0, f"rasa=={version.release}")
        if requirements is not None:
            packages += ["-r", str(requirements)]
    elif with_plotting:
        # rasa brings matplotlib; without rasa, the comparison plot needs it on its own.
        packages.append("matplotlib")
    commands = [[python, "-m", "venv", str(venv)], pip + packages]
    return venv, commands


def install(environ: Mapping[str, str], runtime: ActionsRuntime, *, with_rasa: bool,
            source: Path, console: Console, with_plotting: bool = False) -> dict[str, str]:
    """Create the venv, install into it, put its bin/ on PATH for the next steps."""
    venv, commands = install_plan(environ, source=source, with_rasa=with_rasa,
                                  python=sys.executable, with_plotting=with_plotting)
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
    installer.add_argument("--with-plotting", action="store_true",
                           help="with --without-rasa: also matplotlib, for the comparison "
                                "plot (the merge job of the matrix workflows)")
    arguments = parser.parse_args(argv)

    environ = dict(os.environ if environ is None else environ)
    runtime = ActionsRuntime(environ)
    mask_environment_secrets(runtime)  # before pip or venv can print any of them
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
                          source=Path(__file__).resolve().parent.parent, console=Console(),
                          with_plotting=arguments.with_plotting)
    for name, value in outputs.items():
        print(f"{name}: {value}", file=sys.stderr)
    runtime.set_outputs(outputs)


if __name__ == "__main__":
    sys.exit(main())
