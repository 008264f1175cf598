"""The pipeline tests' stand-in `rasa` (tests/fakes/fake_rasa.py: it writes the files real
rasa writes, copied from tests/fixtures/rasa/)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ci_toolkit.pipeline.run import Pipeline
from ci_toolkit.pipeline.settings import PipelineSettings
from ci_toolkit.proc import Console
from tests.fakes import fake_rasa
from tests.rasa_support import copy_example


@pytest.fixture
def stand_in(tmp_path: Path):
    """Run the pipeline on a copy of the example with the fake rasa (tests/fakes/fake_rasa.py)
    at tmp_path/bin/rasa; returns (the run, the fake's journal of commands)."""
    rasa = fake_rasa.install(tmp_path)

    def run(behave: dict[str, str] | None = None, **options):
        rasa.behave(behave)
        bot = tmp_path / "bot"
        project = bot if bot.exists() else copy_example(bot)
        options.setdefault("no_cache", True)
        settings = PipelineSettings(project_dir=project, rasa=str(rasa), cross_validation=True,
                                    **options)
        result = Pipeline(settings, console=Console(io.StringIO()), environ={}).execute()
        return result, rasa.events()
    return run
