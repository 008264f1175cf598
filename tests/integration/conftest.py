"""Fixtures shared by the integration tests: the suite's one cold pipeline run and the one
trained model of the example assistant (both with tests/rasa_support.py SUITE_CONFIG).
Training and cross-validation are the expensive parts of the suite, so every test that only
needs *a* model or *a* finished run shares them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.pipeline_runs import CROSS_VALIDATION, CliRun, ci_toolkit
from tests.rasa_support import cached_example_model, copy_suite_example, keep_example_model


@pytest.fixture(scope="session")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CliRun]:
    """One cold run of every stage on a copy of the example (SUITE_CONFIG), with its cache
    inside the copy.

    Shared by test_pipeline.py (what a run reports), test_cache.py (which copies the
    project and its cache, changes one thing and runs again) and `example_model`.
    """
    project = copy_suite_example(tmp_path_factory.mktemp("full") / "coffeebot")
    # Two jobs: rasa keeps about one core busy, so on two cores the tests and the
    # cross-validation overlap (and the concurrent path is exercised for real).
    return project, ci_toolkit(project, *CROSS_VALIDATION, "--jobs", "2")


@pytest.fixture(scope="session")
def example_model(request: pytest.FixtureRequest) -> Path:
    """The example's model (SUITE_CONFIG): an earlier session's, else the cold run's.

    Never trained on its own: the cold run (`full_run`) trains the same files anyway.
    """
    cached = cached_example_model()
    if cached is not None:
        return cached
    _, run = request.getfixturevalue("full_run")
    assert run.exit_code == 0, run.output[-3000:]
    return keep_example_model(Path(run.report["model"]["path"]))
