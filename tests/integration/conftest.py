from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.pipeline_runs import CliRun, ci_toolkit
from tests.rasa_support import copy_example


@pytest.fixture(scope="session")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CliRun]:
    """One cold run of every stage on a copy of the example, with its cache inside the copy.

    Shared by test_pipeline.py (what a run reports) and test_cache.py (which copies the
    project and its cache, changes one thing and runs again).
    """
    project = copy_example(tmp_path_factory.mktemp("full") / "coffeebot")
    # Two jobs: rasa keeps about one core busy, so on two cores the tests and the
    # cross-validation overlap (and the concurrent path is exercised for real).
    return project, ci_toolkit(project, "--cross-validation", "--folds", "2", "--jobs", "2")
