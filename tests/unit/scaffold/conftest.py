"""Copies of the example assistant for the scaffold tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.rasa_support import copy_example


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_example(tmp_path_factory.mktemp("example") / "coffeebot")
    # What earlier pipeline runs left in the example is not part of the project (and is big).
    for leftover in (".ci-toolkit", "examples"):
        shutil.rmtree(project / leftover, ignore_errors=True)
    return project


@pytest.fixture
def bot(pristine: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(pristine, tmp_path / "coffeebot"))
