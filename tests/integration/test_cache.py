"""The stage cache with real rasa (asserted on the report's ran/cached marks, never on timings).

Which stages a change invalidates is proven without rasa (tests/unit/pipeline/
test_fingerprint.py, test_scheduler.py); these runs prove what only real rasa can: restored
results equal rasa's own, a retrain goes through rasa's component cache, --no-cache really
makes rasa retrain, and a damaged entry is rebuilt by rasa. Each rerun asks for as few rasa
commands as its case needs (no cross-validation, no validation, one test type).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import project_changes
from tests.integration.pipeline_runs import CROSS_VALIDATION, CliRun, ci_toolkit

pytestmark = [pytest.mark.rasa, pytest.mark.slow]
ALL = {"validate", "train", "test_core", "test_nlu", "cross_validate"}
# The model, then the NLU test only: the cheapest run that trains and tests with real rasa.
TRAIN_AND_NLU_TEST = ("--no-validate", "--test-type", "nlu")


def _copy(full_run: tuple[Path, CliRun], tmp_path: Path,
          change: Callable[[Path], None] | None = None) -> Path:
    source, cold = full_run
    assert cold.exit_code == 0, cold.output[-3000:]
    project = tmp_path / "coffeebot"
    # The copy carries the cache (.ci-toolkit/cache, rasa's component cache included).
    shutil.copytree(source, project, ignore=shutil.ignore_patterns("reports", "results"))
    if change is not None:
        change(project)
    return project


def _run(project: Path, *args: str) -> CliRun:
    run = ci_toolkit(project, *args)
    assert run.exit_code == 0, run.output[-3000:]
    return run


def test_unchanged_project_reruns_nothing_and_reuses_the_model(full_run, tmp_path: Path) -> None:
    run = _run(_copy(full_run, tmp_path), *CROSS_VALIDATION, "--jobs", "2")
    assert run.ran() == set()
    assert run.cached() == ALL
    report = run.report
    assert report["model"]["source"] == "cached"
    assert Path(report["model"]["path"]).is_file()
    assert Path(report["model"]["path"]).name == full_run[1].report["model"]["name"]
    # Restored results are the cold run's results, and the time saved is recorded.
    cold = full_run[1].report
    assert report["nlu"] == cold["nlu"]
    assert report["core"] == cold["core"]
    assert report["cross_validation"] == cold["cross_validation"]
    assert all(s["saved_s"] and s["saved_s"] > 0 for s in report["stages"])
    assert "restored from the cache" in run.output


def test_response_text_change_retrains_through_rasas_component_cache(full_run,
                                                                     tmp_path: Path) -> None:
    run = _run(_copy(full_run, tmp_path, project_changes.change_response_text),
               *TRAIN_AND_NLU_TEST)
    # A response is no NLU input: the NLU test result of the cold run still holds.
    assert run.ran() == {"train"}
    assert run.cached() == {"test_nlu"}
    # rasa's own component cache made the retrain restore every NLU component.
    assert "Restored component" in Path(run.stage("train")["log_file"]).read_text()


def test_no_cache_makes_rasa_retrain_everything(full_run, tmp_path: Path) -> None:
    run = _run(_copy(full_run, tmp_path), "--no-cache", "--no-validate", "--no-test")
    assert run.ran() == {"train"}
    log = Path(run.stage("train")["log_file"]).read_text()
    assert "--force" in log.splitlines()[0]
    # Neither the stage cache nor rasa's component cache (which the copy carries) was used.
    assert "Restored component" not in log


def test_corrupt_cache_entry_is_discarded_and_rebuilt(full_run, tmp_path: Path) -> None:
    project = _copy(full_run, tmp_path)
    entries = list((project / ".ci-toolkit" / "cache" / "stages" / "test_nlu").iterdir())
    [entry] = [e for e in entries if (e / "manifest.json").exists()]
    report_file = entry / "files" / "nlu" / "intent_report.json"
    report_file.write_text(report_file.read_text().replace("1.0", "0.5"))

    run = _run(project, *TRAIN_AND_NLU_TEST)
    assert run.ran() == {"test_nlu"}
    assert run.cached() == {"train"}
    assert "unusable" in run.output and "does not match its checksum" in run.output
    assert run.report["nlu"]["intent_classification"]["labels"].keys() == \
        full_run[1].report["nlu"]["intent_classification"]["labels"].keys()
    # The rebuilt entry is valid again.
    manifest = json.loads((entry / "manifest.json").read_text())
    assert manifest["stage"] == "test_nlu"
