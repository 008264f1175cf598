"""Shared access to the real rasa runtime and one trained model of the example assistant.

Training costs about a minute, so the model of `examples/coffeebot` is trained once and kept
in a cache keyed by the content of the files that can change it; every test that only needs
*a* model reuses it (tests/integration/conftest.py fills that cache from the suite's one cold
pipeline run, so a session never trains the example twice).

Only tests marked `rasa` may use the runtime: tests/conftest.py tells this module, for each
test, whether it is marked, and `rasa_executable` refuses an unmarked test.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DIR = REPO_ROOT / "examples" / "coffeebot"
CACHE_ROOT = Path(os.environ.get("CI_TOOLKIT_TEST_CACHE", Path.home() / ".cache" / "ci-toolkit-tests"))
RASA_ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}

# Whether the running test is marked `rasa`; None outside a pytest session (scripts).
_permitted: bool | None = None


class UnmarkedRasaTest(RuntimeError):
    pass


def permit_rasa(marked: bool | None) -> None:
    global _permitted
    _permitted = marked


def rasa_executable() -> str:
    """The rasa CLI: $CI_TOOLKIT_RASA, else the environment made by scripts/setup-rasa.sh."""
    if _permitted is False:
        raise UnmarkedRasaTest(
            "This test runs real rasa but is not marked: add @pytest.mark.rasa (and "
            "pytest.mark.slow), so that the fast tier (-m 'not rasa and not docker') leaves it out.")
    return _find_rasa()


# Another supported rasa 3 release than the pinned one (3.6.21), tested for real in
# tests/integration/test_rasa_releases.py: the oldest minor release the actions support.
OTHER_RASA_RELEASE = "3.5.17"


def other_rasa_executable() -> str:
    """The rasa CLI of OTHER_RASA_RELEASE, installed by scripts/setup-rasa.sh if needed."""
    rasa_executable()  # the same marker rule
    return _setup_rasa(OTHER_RASA_RELEASE)


@lru_cache(maxsize=1)
def _find_rasa() -> str:
    configured = os.environ.get("CI_TOOLKIT_RASA")
    if configured:
        return configured
    return _setup_rasa(None)


@lru_cache(maxsize=2)
def _setup_rasa(version: str | None) -> str:
    env = {**os.environ, "RASA_VERSION": version} if version else None
    done = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "setup-rasa.sh")],
        check=True, capture_output=True, text=True, env=env,
    )
    return done.stdout.strip().splitlines()[-1]


# An NLU pipeline without TensorFlow: it trains and loads in seconds, for tests about what the
# toolkit does around training rather than about the example's model.
LIGHT_NLU_PIPELINE = """pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: LogisticRegressionClassifier
"""


# Policies without TensorFlow (the example's stories are short: rules and memoisation do).
LIGHT_POLICIES = """policies:
  - name: MemoizationPolicy
  - name: RulePolicy
"""


def use_light_nlu_pipeline(project: Path, *, extra_components: str = "",
                           light_policies: bool = False) -> None:
    """Replace the NLU pipeline of the project's config.yml with LIGHT_NLU_PIPELINE (plus
    ``extra_components``, YAML list items), and with ``light_policies`` its policies with
    LIGHT_POLICIES; the rest of the file is kept."""
    config = project / "config.yml"
    text = config.read_text()
    start, end = text.index("pipeline:\n"), text.index("\npolicies:")
    rest = "\n" + LIGHT_POLICIES if light_policies else text[end:]
    config.write_text(text[:start] + LIGHT_NLU_PIPELINE + extra_components + rest)


def copy_example(destination: Path) -> Path:
    """A private copy of the example assistant that a test may change."""
    shutil.copytree(EXAMPLE_DIR, destination,
                    ignore=shutil.ignore_patterns("models", "results", "reports", ".rasa", ".ci-toolkit"))
    return destination


def _model_inputs_digest(project: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted([project / "config.yml", project / "domain.yml",
                        *sorted((project / "data").rglob("*.yml"))]):
        digest.update(path.relative_to(project).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cached_model() -> Path:
    return CACHE_ROOT / "models" / f"coffeebot-{_model_inputs_digest(EXAMPLE_DIR)}.tar.gz"


def cached_example_model() -> Path | None:
    """The example's model if an earlier session (or this one) already trained it."""
    target = _cached_model()
    return target if target.is_file() else None


def keep_example_model(model: Path) -> Path:
    """Keep MODEL, trained from an unchanged copy of the example, as the example's model."""
    target = _cached_model()
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        # Copy, then rename: a reader never sees half a model.
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        shutil.copyfile(model, partial)
        partial.replace(target)
    return target


def trained_example_model() -> Path:
    """A model trained from examples/coffeebot, trained at most once per content."""
    target = _cached_model()
    models = target.parent
    models.mkdir(parents=True, exist_ok=True)
    with (models / ".lock").open("w") as lock:
        # Several test processes may ask at once; only one trains.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            workdir = CACHE_ROOT / "train-work"
            shutil.rmtree(workdir, ignore_errors=True)
            project = copy_example(workdir)
            subprocess.run(
                [rasa_executable(), "train", "--config", "config.yml", "--domain", "domain.yml",
                 "--data", "data", "--out", "models", "--fixed-model-name", "model"],
                cwd=project, env=RASA_ENV, check=True, capture_output=True,
            )
            shutil.move(str(project / "models" / "model.tar.gz"), target)
            shutil.rmtree(workdir, ignore_errors=True)
    return target
