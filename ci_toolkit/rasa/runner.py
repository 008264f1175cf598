"""Build and run rasa commands. Every path is passed explicitly, so that rasa can never
fall back to a default location silently (docs/architecture.md, "How rasa behaves")."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ci_toolkit import proc
from ci_toolkit.errors import UsageError
from ci_toolkit.gha import without_secrets
from ci_toolkit.pipeline.project import RasaProject
from ci_toolkit.rasa.model_archive import MODEL_SUFFIX

RASA_HINT = (
    "Point --rasa (or CI_TOOLKIT_RASA) at the rasa executable, or put it on PATH. "
    "scripts/setup-rasa.sh creates a Python 3.10 environment with rasa and prints its path."
)
_DIST_INFO = re.compile(r"^rasa-([0-9][^-]*)\.dist-info$")

# A model name is one file name that survives a shell, a URL and a helm value unquoted.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")

def fixed_model_name_problem(name: str | None) -> str | None:
    """Why --fixed-model-name cannot be used as given, or None when it can.

    rasa keeps only the last path component (`out/v1` is saved as `v1.tar.gz` in --out)
    and, unless the name ends in .tar.gz, replaces whatever follows its last dot
    (`model.v1` becomes `model.tar.gz`). Separators are refused; dots are kept because the
    toolkit passes the name with .tar.gz appended (model_file_name)."""
    if not name:  # an empty action input means "not given"
        return None
    if "/" in name or "\\" in name:
        last = PurePosixPath(name.replace("\\", "/")).name
        return (f"--fixed-model-name {name!r} contains a path separator. rasa would keep only "
                f"the last part ({last!r}) and save it in --models-dir. Give a plain file name "
                "and choose the directory with --models-dir.")
    stem = name[:-len(MODEL_SUFFIX)] if name.endswith(MODEL_SUFFIX) else name
    if not _SAFE_NAME.match(stem):
        return (f"--fixed-model-name {name!r} is not a plain file name. Use letters, digits "
                "and . _ + - (not starting with . or -), e.g. --fixed-model-name model-v1.")
    return None


def model_file_name(name: str) -> str:
    """The name to give rasa so that it saves NAME.tar.gz exactly (see above)."""
    return name if name.endswith(MODEL_SUFFIX) else f"{name}{MODEL_SUFFIX}"


def find_rasa(configured: str | None) -> str:
    if configured:
        return proc.find_executable(configured, hint=RASA_HINT)
    return proc.find_executable("rasa", hint=RASA_HINT)


def installed_rasa_version(executable: str) -> str | None:
    """The installed rasa version, read from its dist-info (rasa --version takes seconds)."""
    env_root = Path(executable).resolve().parent.parent
    for site in env_root.glob("lib/python3*/site-packages"):
        for entry in site.iterdir():
            match = _DIST_INFO.match(entry.name)
            if match:
                return match.group(1)
    try:
        done = subprocess.run([executable, "--version"], capture_output=True, text=True,
                              timeout=120, env={**without_secrets(os.environ),
                                                "RASA_TELEMETRY_ENABLED": "false"})
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"Rasa Version\s*:\s*(\S+)", proc.strip_ansi(done.stdout))
    return match.group(1) if match else None


def _release(version: str | None) -> tuple[int, int] | None:
    match = re.match(r"(\d+)\.(\d+)", version or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def validates_while_training(version: str | None) -> bool:
    """Whether `rasa train` validates the data itself, and so takes --skip-validation: rasa
    3.6 does; 3.5 and older have neither (they refuse the option). An unknown version is
    taken to be the pinned one."""
    release = _release(version)
    return release is None or release >= (3, 6)


def rasa_environment(base: Mapping[str, str], *, rasa_cache: Path | None) -> dict[str, str]:
    # rasa reads none of the toolkit's credentials (GITHUB_TOKEN, CI_TOOLKIT_*_PASSWORD ...)
    # and a custom component or action may print its environment: it gets none of them.
    env = without_secrets(base)
    # Without this, a crash makes rasa retry sending telemetry to an unreachable host.
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env.setdefault("LOG_LEVEL", "INFO")
    # Rasa's dependencies print pages of DeprecationWarnings; the UserWarnings that carry
    # validation findings are kept.
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning,ignore::PendingDeprecationWarning")
    # Matplotlib (rasa's plots) wants a writable config dir; $HOME may be read-only in CI.
    env.setdefault("MPLCONFIGDIR", str(Path(os.environ.get("TMPDIR", "/tmp")) / "ci-toolkit-mpl"))
    if rasa_cache is not None:
        # Absolute: rasa resolves it against its own working directory, the project.
        env["RASA_CACHE_DIRECTORY"] = str(rasa_cache.resolve())
    else:
        # --no-cache: otherwise rasa would still reuse components from PROJECT/.rasa/cache,
        # and `rasa train core`/`nlu` have no --force that covers it.
        env["RASA_MAX_CACHE_SIZE"] = "0"
    return env


# Cross-validation shuffles its folds afresh each run, so rasa's cache could never serve its
# components again; caching them only fills the cache, and next to a concurrent `rasa train`
# two processes would evict entries from under each other.
NO_RASA_CACHE = {"RASA_MAX_CACHE_SIZE": "0"}


@dataclass(frozen=True)
class RasaRuntime:
    executable: str
    project: RasaProject
    env: Mapping[str, str]
    console: proc.Console
    timeout_s: float | None = None
    version: str | None = None  # the installed release, when known

    def run(self, argv: Sequence[str], *, label: str, log_file: Path,
            extra_env: Mapping[str, str] | None = None) -> proc.Completed:
        # rasa resolves relative paths and its .rasa/cache against the working directory.
        return proc.run(
            [self.executable, *argv],
            label=label,
            console=self.console,
            cwd=self.project.root,
            env={**self.env, **(extra_env or {})},
            log_file=log_file,
            timeout_s=self.timeout_s,
        )


def _rel(project: RasaProject, path: Path) -> str:
    """Paths inside the project are passed relative to it (rasa runs there); that keeps
    the story file names in failed_test_stories.yml short and repository-relative."""
    return project.relative(path)


def _absolute(path: Path) -> str:
    # Outputs and models live outside the project as often as inside; rasa runs in the
    # project directory, so a relative path would point somewhere else (and rasa would
    # silently fall back to its default models/ directory).
    return str(Path(path).resolve())


def _data_args(project: RasaProject) -> list[str]:
    return [_rel(project, p) for p in project.data]


def _single_data(project: RasaProject, *, command: str) -> str:
    # `rasa train nlu/core` and `rasa test nlu` take one data path, unlike `rasa train`.
    if len(project.data) != 1:
        raise UsageError(
            f"`rasa {command}` takes a single data path, but {len(project.data)} were given. "
            "Keep the training data under one directory and pass that."
        )
    return _rel(project, project.data[0])


def validate_argv(project: RasaProject, *, fail_on_warnings: bool,
                  extra: Sequence[str]) -> list[str]:
    argv = ["data", "validate", "--config", _rel(project, project.config),
            "--domain", _rel(project, project.domain), "--data", *_data_args(project)]
    if fail_on_warnings:
        argv.append("--fail-on-warnings")
    return [*argv, *extra]


def train_argv(
    project: RasaProject,
    *,
    train_type: str,
    out: Path,
    fixed_model_name: str | None,
    finetune: str | None,
    force: bool,
    extra: Sequence[str],
    skip_validation: bool = True,
) -> list[str]:
    config = ["--config", _rel(project, project.config)]
    domain = ["--domain", _rel(project, project.domain)]
    if train_type == "nlu":
        argv = ["train", "nlu", *config, *domain,
                "--nlu", _single_data(project, command="train nlu")]
    elif train_type == "core":
        argv = ["train", "core", *config, *domain,
                "--stories", _single_data(project, command="train core")]
    else:
        # The pipeline validates in its own stage; validating again would double the time.
        argv = ["train", *config, *domain, "--data", *_data_args(project)]
        argv += ["--skip-validation"] if skip_validation else []
    argv += ["--out", _absolute(out)]
    if fixed_model_name:
        # With .tar.gz appended rasa keeps the whole name; without, it drops what follows
        # the last dot (`model.v1` would be saved as `model.tar.gz`).
        argv += ["--fixed-model-name", model_file_name(fixed_model_name)]
    if finetune is not None:
        argv += ["--finetune", finetune] if finetune else ["--finetune"]
    if force and train_type == "all":
        argv.append("--force")
    return [*argv, *extra]


def test_core_argv(project: RasaProject, *, model: Path, out: Path,
                   extra: Sequence[str]) -> list[str]:
    if project.tests is None:
        raise UsageError("No test stories to run. Add tests/test_stories.yml or pass --tests.")
    return ["test", "core", "--model", _absolute(model), "--stories", _rel(project, project.tests),
            "--out", _absolute(out), *extra]


def test_nlu_argv(project: RasaProject, *, model: Path, out: Path,
                  extra: Sequence[str]) -> list[str]:
    return ["test", "nlu", "--model", _absolute(model),
            "--nlu", _single_data(project, command="test nlu"),
            "--out", _absolute(out), "--domain", _rel(project, project.domain), *extra]


def cross_validate_argv(project: RasaProject, *, folds: int, out: Path,
                        extra: Sequence[str]) -> list[str]:
    return ["test", "nlu", "--cross-validation", "--folds", str(folds),
            "--config", _rel(project, project.config),
            "--nlu", _single_data(project, command="test nlu --cross-validation"),
            "--domain", _rel(project, project.domain), "--out", _absolute(out), *extra]
