"""What a run reports is what happened in this run: rasa's own reason when it fails, no
files of an earlier run, and the user's config.yml left as it was. Driven by the stand-in
rasa (conftest.py), which replays real rasa output."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ci_toolkit.pipeline.run import Pipeline
from ci_toolkit.pipeline.settings import PipelineSettings
from ci_toolkit.proc import Console
from ci_toolkit.rasa import reports

# stage, the rasa command, the real output it replays, what the stage's reason must say
FAILURES = [
    ("train", "train", "failure-train-no-tokenizer",
     "rasa.engine.exceptions.GraphSchemaValidationException: 8 components are missing"),
    ("train", "train", "failure-train-unknown-component",
     "InvalidConfigException: Can't load class for name 'RegexFeaturiser'"),
    ("train", "train", "failure-train-schema-error",
     "data/nlu.yml:163: Key 'exmples' was not defined"),
    ("train", "train", "failure-train-duplicate-key", 'found duplicate key "intents"'),
    ("validate", "data validate", "failure-validate-schema-error",
     "Here are the errors found during validation: data/nlu.yml:163: Key 'exmples'"),
    ("validate", "data validate", "failure-validate-duplicate-key",
     'found duplicate key "intents"'),
]


@pytest.mark.parametrize("stage, command, fixture, says", FAILURES,
                         ids=[f[2] for f in FAILURES])
def test_a_failed_stage_gives_rasas_own_reason(stand_in, stage: str, command: str,
                                               fixture: str, says: str) -> None:
    result, _ = stand_in({command: f"fixture:{fixture}"})
    failed = result.results[stage]
    assert failed.status == "failed"
    assert says in failed.reason
    assert "wrote no model" not in failed.reason and "validation error" not in failed.reason


def test_a_stage_that_could_not_run_leaves_no_earlier_files(stand_in, tmp_path: Path) -> None:
    stand_in(jobs=1)
    results = tmp_path / "bot" / "results"
    (results / "core" / "story_confusion_matrix.png").write_bytes(b"png of the earlier run")
    assert (results / "logs" / "test_core.log").is_file()

    result, _ = stand_in({"train": "no-model"}, jobs=1)
    assert result.results["test_core"].status == "skipped"
    assert not (results / "core").exists() and not (results / "nlu").exists()
    assert not (results / "logs" / "test_core.log").exists()
    assert result.artifact_dirs() == [results / "cross_validation"]


def test_a_switched_off_stage_keeps_its_files_but_they_are_not_this_runs(
        stand_in, tmp_path: Path) -> None:
    stand_in(jobs=1)
    results = tmp_path / "bot" / "results"
    old_picture = results / "core" / "story_confusion_matrix.png"
    old_picture.write_bytes(b"png of the earlier run")
    new_picture = results / "nlu" / "intent_confusion_matrix.png"

    settings = PipelineSettings(project_dir=tmp_path / "bot", rasa=str(tmp_path / "bin" / "rasa"),
                                test_type="nlu", no_cache=True)
    result = Pipeline(settings, console=Console(io.StringIO()), environ={}).execute()
    new_picture.write_bytes(b"png")  # the stand-in writes no pictures; rasa would
    assert old_picture.exists()  # a fuller report may still point at it
    assert results / "core" not in result.artifact_dirs()
    assert reports.images(results, only=result.artifact_dirs()) == [new_picture]
    assert old_picture in reports.images(results)  # what listing everything would show


def _drop_assistant_id(project: Path) -> bytes:
    config = project / "config.yml"
    lines = [line for line in config.read_text().splitlines(keepends=True)
             if not line.startswith("assistant_id:")]
    config.write_text("".join(lines))
    return config.read_bytes()


def test_rasa_trains_on_a_copy_when_it_would_rewrite_the_config(stand_in, tmp_path) -> None:
    stand_in(jobs=1)  # makes the project copy
    original = _drop_assistant_id(tmp_path / "bot")
    screen = io.StringIO()
    settings = PipelineSettings(project_dir=tmp_path / "bot", rasa=str(tmp_path / "bin" / "rasa"),
                                no_cache=False, jobs=1)
    first = Pipeline(settings, console=Console(screen), environ={}).execute()
    assert first.results["train"].status == "passed"
    argv = first.results["train"].log_file.read_text().splitlines()[0]
    assert "ci-toolkit-config-" in argv and " config.yml" not in argv
    assert "has no assistant_id" in screen.getvalue()
    assert "add `assistant_id: bot`" in screen.getvalue()
    assert (tmp_path / "bot" / "config.yml").read_bytes() == original
    # Nothing changed, so the next run restores every stage.
    second = Pipeline(settings, console=Console(io.StringIO()), environ={}).execute()
    assert {name: r.cached for name, r in second.results.items()
            if r.status != "skipped"} == dict.fromkeys(
        ["validate", "train", "test_core", "test_nlu"], True)


def test_a_complete_config_is_given_to_rasa_as_it_is(stand_in) -> None:
    result, _ = stand_in(jobs=1)
    argv = result.results["train"].log_file.read_text().splitlines()[0]
    assert "--config config.yml" in argv
