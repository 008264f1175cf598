"""Shared access to the real rasa runtime and one trained model of the example assistant.

The suite trains the example with SUITE_CONFIG (light components, every kind of result) once,
in its one cold pipeline run (tests/integration/conftest.py), and keeps the model in a cache
keyed by the content of the files that can change it; every test that only needs *a* model
reuses it.

Only tests marked `rasa` may use the runtime: tests/conftest.py tells this module, for each
test, whether it is marked, and `rasa_executable` refuses an unmarked test.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from ci_toolkit.rasa.evaluator import rasa_interpreter

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


def run_in_rasas_interpreter(script: str, *argv: str, workdir: Path,
                             env: Mapping[str, str]) -> Any:
    """Run SCRIPT with the Python interpreter of rasa's own environment (the one the model
    evaluator's worker runs in) and return the JSON value its last line of output holds.
    The script is written to WORKDIR first: AutoGraph reads a function's source file."""
    python = rasa_interpreter(rasa_executable())
    assert python, "the rasa executable is not a Python script"
    path = workdir / "script.py"
    path.write_text(script)
    done = subprocess.run([python, str(path), *argv], capture_output=True, text=True,
                          timeout=600, check=False, env=dict(env))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


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


# The configuration of the suite's shared cold run and model (tests/integration/conftest.py):
# the example's data and domain with components that train and load in seconds, while every
# kind of rasa result is still written: intents, entities (CRF), responses (ResponseSelector,
# the one TensorFlow component, with the example's epochs) and stories. The example's own TensorFlow
# config is what the README's demo runs; here it would only make the suite slower (its model
# takes about a minute to load, once per rasa process).
SUITE_CONFIG = """recipe: default.v1
assistant_id: coffeebot-example
language: en

pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: LogisticRegressionClassifier
  - name: CRFEntityExtractor
  - name: EntitySynonymMapper
  - name: ResponseSelector
    epochs: 20
  - name: FallbackClassifier
    threshold: 0.3

policies:
  - name: MemoizationPolicy
  - name: RulePolicy
"""


def copy_suite_example(destination: Path) -> Path:
    """A private copy of the example with SUITE_CONFIG as its config.yml."""
    copy_example(destination)
    (destination / "config.yml").write_text(SUITE_CONFIG)
    return destination


def _suite_model_digest() -> str:
    """What the suite's model is trained from: SUITE_CONFIG and the example's domain and data."""
    digest = hashlib.sha256(SUITE_CONFIG.encode())
    for path in sorted([EXAMPLE_DIR / "domain.yml", *(EXAMPLE_DIR / "data").rglob("*.yml")]):
        digest.update(path.relative_to(EXAMPLE_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cached_model() -> Path:
    return CACHE_ROOT / "models" / f"coffeebot-suite-{_suite_model_digest()}.tar.gz"


def cached_example_model() -> Path | None:
    """The suite's model of the example if an earlier session (or this one) already trained it."""
    target = _cached_model()
    return target if target.is_file() else None


def keep_example_model(model: Path) -> Path:
    """Keep MODEL, trained from an unchanged `copy_suite_example`, as the suite's model."""
    target = _cached_model()
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        # Copy, then rename: a reader never sees half a model.
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        shutil.copyfile(model, partial)
        partial.replace(target)
    return target
