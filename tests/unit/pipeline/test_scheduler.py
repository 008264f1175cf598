"""The pipeline's scheduling and status logic, driven by a stand-in `rasa` executable that
writes the files real rasa writes (copied from the committed real outputs). Real rasa runs
in tests/integration; this covers orderings and failure paths that are slow to reach there."""

from __future__ import annotations

import io
import json

import pytest

from ci_toolkit.pipeline.cache import SIGNATURE, _signed_bytes
from ci_toolkit.pipeline.cache_key import cache_key
from ci_toolkit.pipeline.run import Pipeline
from ci_toolkit.pipeline.settings import PipelineSettings
from ci_toolkit.proc import Console


def _statuses(result) -> dict[str, str]:
    return {name: r.status for name, r in result.results.items()}


def test_one_job_runs_stages_in_pipeline_order(stand_in) -> None:
    result, events = stand_in(jobs=1)
    # (The stand-in is also asked for its version first: an empty command.)
    starts = [e["start"] for e in events if e.get("start")]
    assert starts == ["data validate", "train", "test core", "test nlu", "test nlu"]
    assert _statuses(result) == dict.fromkeys(
        ["validate", "train", "test_core", "test_nlu", "cross_validate"], "passed")
    assert result.results["test_core"].reason == "2 of 6 test stories failed"


def test_two_jobs_overlap_but_tests_wait_for_the_model(stand_in) -> None:
    result, events = stand_in(jobs=2)
    assert result.passed
    train_end = next(e["t"] for e in events if e.get("end") == "train")
    core_start = next(e["t"] for e in events if e.get("start") == "test core")
    assert core_start >= train_end
    # Cross-validation needs no model, so it runs beside training.
    running, overlapped = 0, False
    for event in sorted(events, key=lambda e: e["t"]):
        running += 1 if "start" in event else -1
        overlapped |= running > 1
    assert overlapped


def test_validation_errors_skip_everything_after(stand_in) -> None:
    result, _ = stand_in({"data validate": "errors"})
    assert _statuses(result) == {"validate": "failed", "train": "skipped", "test_core": "skipped",
                                 "test_nlu": "skipped", "cross_validate": "skipped"}
    assert result.results["train"].reason == "validate failed"
    assert result.results["test_core"].reason == "train did not run (validate failed)"
    assert result.results["validate"].reason == "1 validation error"


def test_rasa_exiting_zero_without_a_model_is_a_failure(stand_in) -> None:
    result, _ = stand_in({"train": "no-model"})
    assert result.results["train"].status == "failed"
    assert result.results["train"].reason.startswith("No training data given")
    assert result.results["test_core"].reason == "train failed"
    assert result.results["cross_validate"].status == "passed"


def test_test_core_that_finds_no_model_fails_despite_exit_zero(stand_in) -> None:
    result, _ = stand_in({"test core": "no-model"})
    assert result.results["test_core"].status == "failed"
    assert "Unable to test" in result.results["test_core"].reason


def test_nlu_only_training_skips_the_core_test(stand_in) -> None:
    result, events = stand_in(train_type="nlu")
    assert result.results["test_core"].status == "skipped"
    assert result.results["test_core"].reason == "the model is NLU-only"
    assert "train nlu" in [e.get("start") for e in events]


def test_without_training_or_model_tests_are_skipped_with_the_reason(stand_in) -> None:
    result, _ = stand_in(train=False)
    assert result.results["test_nlu"].reason == "no model: training is disabled and no --model was given"


def _actions_log(stand_in_run, jobs: int) -> list[str]:
    """What the Actions log shows of a run: stdout (commands) then stderr (the console)."""
    from ci_toolkit.gha import ActionsRuntime
    screen = io.StringIO()
    project, settings = stand_in_run
    actions = ActionsRuntime(environ={"GITHUB_ACTIONS": "true"}, stream=screen)
    Pipeline(PipelineSettings(project_dir=project, rasa=settings, cross_validation=True,
                              no_cache=True, jobs=jobs),
             console=Console(screen), environ={}, actions=actions).execute()
    return screen.getvalue().splitlines()


@pytest.mark.parametrize("jobs", [1, 2])
def test_in_actions_each_stage_is_one_group_whatever_the_jobs(stand_in, tmp_path, jobs) -> None:
    stand_in()  # creates the project and the stand-in rasa
    lines = _actions_log((tmp_path / "bot", str(tmp_path / "bin" / "rasa")), jobs)
    groups: dict[str, list[str]] = {}
    current = None
    for line in lines:
        if line.startswith("::group::"):
            assert current is None, "groups must not nest"
            current = line.removeprefix("::group::")
            groups[current] = []
        elif line == "::endgroup::":
            current = None
        elif current is not None:
            groups[current].append(line)
    assert current is None
    assert set(groups) == {f"{stage} (rasa output)" for stage in
                           ("validate", "train", "test_core", "test_nlu", "cross_validate")}
    # A group holds its own stage's lines only, even when stages ran side by side.
    labels = {"test_core": "test core", "test_nlu": "test nlu", "cross_validate": "cross-validate"}
    for title, body in groups.items():
        stage = title.split(" ")[0]
        assert body and all(line.startswith(f"[{labels.get(stage, stage)} ") for line in body)


def test_a_restored_stage_leaves_no_stale_file_of_an_earlier_run(stand_in, tmp_path) -> None:
    stand_in(no_cache=False)
    stale = tmp_path / "bot" / "results" / "nlu" / "from_an_older_run.png"
    stale.write_bytes(b"png")
    result, _ = stand_in(no_cache=False)
    assert all(r.cached for r in result.results.values())
    assert not stale.exists()
    assert (tmp_path / "bot" / "results" / "nlu" / "intent_report.json").is_file()


def test_an_entry_that_cannot_be_restored_is_discarded_and_the_stage_runs(stand_in, tmp_path) -> None:
    stand_in(no_cache=False)
    # A manifest that passes its checksums and signature (written with this key by a buggy
    # writer) but lacks the model record.
    [manifest] = (tmp_path / "bot" / ".ci-toolkit" / "cache" / "stages" / "train").glob("*/manifest.json")
    content = json.loads(manifest.read_text())
    del content["data"]["model"]
    content[SIGNATURE] = cache_key({}, warn=print).sign(_signed_bytes(content))
    manifest.write_text(json.dumps(content))
    screen = io.StringIO()
    settings = PipelineSettings(project_dir=tmp_path / "bot", rasa=str(tmp_path / "bin" / "rasa"),
                                cross_validation=True, no_cache=False)
    result = Pipeline(settings, console=Console(screen), environ={}).execute()
    assert result.results["train"].status == "passed" and not result.results["train"].cached
    assert "could not be restored" in screen.getvalue()
    assert result.results["test_nlu"].cached


def test_rasas_own_cache_is_off_for_cross_validation_and_with_no_cache(stand_in) -> None:
    _, events = stand_in(no_cache=False, jobs=1)
    sizes = {e["start"] + (" cv" if i == 4 else ""): e["rasa_cache_size"]
             for i, e in enumerate(e for e in events if e.get("start"))}
    assert sizes == {"data validate": None, "train": None, "test core": None, "test nlu": None,
                     "test nlu cv": "0"}
    _, events = stand_in(no_cache=True, jobs=1)
    assert {e["rasa_cache_size"] for e in events if e.get("start")} == {"0"}
