"""The stage cache with real rasa: after each kind of change exactly the expected stages
run again (asserted on the report's ran/cached marks, never on timings)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import project_changes
from tests.integration.pipeline_runs import CliRun, ci_toolkit

pytestmark = [pytest.mark.rasa, pytest.mark.slow]
ALL = {"validate", "train", "test_core", "test_nlu", "cross_validate"}


def _rerun(full_run: tuple[Path, CliRun], tmp_path: Path,
           change: Callable[[Path], None] | None = None) -> CliRun:
    source, cold = full_run
    assert cold.exit_code == 0, cold.output[-3000:]
    project = tmp_path / "coffeebot"
    # The copy carries the cache (.ci-toolkit/cache, rasa's component cache included).
    shutil.copytree(source, project, ignore=shutil.ignore_patterns("reports", "results"))
    if change is not None:
        change(project)
    run = ci_toolkit(project, "--cross-validation", "--folds", "2", "--jobs", "2")
    assert run.exit_code == 0, run.output[-3000:]
    return run


def test_unchanged_project_reruns_nothing_and_reuses_the_model(full_run, tmp_path: Path) -> None:
    run = _rerun(full_run, tmp_path)
    assert run.ran() == set()
    assert run.cached() == ALL
    report = run.report
    assert report["model"]["source"] == "cached"
    assert Path(report["model"]["path"]).is_file()
    assert Path(report["model"]["path"]).name == full_run[1].report["model"]["name"]
    # Restored results are the cold run's results, and the time saved is recorded.
    cold = full_run[1].report
    assert report["nlu"] == cold["nlu"]
    assert report["cross_validation"] == cold["cross_validation"]
    assert all(s["saved_s"] and s["saved_s"] > 0 for s in report["stages"])
    assert "restored from the cache" in run.output


def test_response_text_change_skips_nlu_test_and_cross_validation(full_run, tmp_path: Path) -> None:
    run = _rerun(full_run, tmp_path, project_changes.change_response_text)
    assert run.ran() == {"validate", "train", "test_core"}
    assert run.cached() == {"test_nlu", "cross_validate"}
    # rasa's own component cache made the retrain restore every component.
    assert "Restored component" in Path(run.stage("train")["log_file"]).read_text()


def test_nlu_change_reruns_everything(full_run, tmp_path: Path) -> None:
    run = _rerun(full_run, tmp_path, project_changes.change_nlu_data)
    assert run.ran() == ALL


def test_story_change_retrains_and_retests_core_only(full_run, tmp_path: Path) -> None:
    run = _rerun(full_run, tmp_path, project_changes.change_story)
    assert run.ran() == {"validate", "train", "test_core"}
    assert run.cached() == {"test_nlu", "cross_validate"}


def test_no_cache_forces_every_stage(full_run, tmp_path: Path) -> None:
    source, _ = full_run
    project = tmp_path / "coffeebot"
    shutil.copytree(source, project, ignore=shutil.ignore_patterns("reports", "results"))
    run = ci_toolkit(project, "--no-cache", "--test-type", "nlu", "--no-validate")
    assert run.exit_code == 0, run.output[-3000:]
    assert run.ran() == {"train", "test_nlu"}
    assert "--force" in Path(run.stage("train")["log_file"]).read_text().splitlines()[0]


def test_corrupt_cache_entry_is_discarded_and_rebuilt(full_run, tmp_path: Path) -> None:
    source, cold = full_run
    project = tmp_path / "coffeebot"
    shutil.copytree(source, project, ignore=shutil.ignore_patterns("reports", "results"))
    entries = list((project / ".ci-toolkit" / "cache" / "stages" / "test_nlu").iterdir())
    [entry] = [e for e in entries if (e / "manifest.json").exists()]
    report_file = entry / "files" / "nlu" / "intent_report.json"
    report_file.write_text(report_file.read_text().replace("1.0", "0.5"))

    run = ci_toolkit(project, "--test-type", "nlu", "--no-validate")
    assert run.exit_code == 0, run.output[-3000:]
    assert "test_nlu" in run.ran()
    assert "unusable" in run.output and "does not match its checksum" in run.output
    assert run.report["nlu"]["intent_classification"]["labels"].keys() == \
        cold.report["nlu"]["intent_classification"]["labels"].keys()
    # The rebuilt entry is valid again.
    manifest = json.loads((entry / "manifest.json").read_text())
    assert manifest["stage"] == "test_nlu"
