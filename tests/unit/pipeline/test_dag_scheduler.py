"""The scheduler on its own: order, the jobs limit, needs, and tasks settled without running."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

import pytest

from ci_toolkit.pipeline.registry import LANES, NEEDS
from ci_toolkit.pipeline.scheduler import Scheduler

DIAMOND = {"a": (), "b": ("a",), "c": ("a",), "d": ("b", "c")}


class Recorder:
    """A task that records when it started and ended, and how many ran at once."""

    def __init__(self, seconds: float = 0.05) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()
        self.events: list[tuple[str, str]] = []
        self.running = 0
        self.most_at_once = 0

    def __call__(self, task: str) -> str:
        with self.lock:
            self.events.append(("start", task))
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(self.seconds)
        with self.lock:
            self.running -= 1
            self.events.append(("end", task))
        return f"{task} done"

    def starts(self) -> list[str]:
        return [task for kind, task in self.events if kind == "start"]

    def index(self, kind: str, task: str) -> int:
        return self.events.index((kind, task))


def test_one_job_runs_every_task_in_declared_order_one_at_a_time() -> None:
    record = Recorder()
    results = Scheduler(DIAMOND, jobs=1).run(record)
    assert record.starts() == ["a", "b", "c", "d"]
    assert record.most_at_once == 1
    assert results == {task: f"{task} done" for task in DIAMOND}


def test_two_jobs_run_independent_tasks_together_and_wait_for_needs() -> None:
    record = Recorder(seconds=0.2)
    Scheduler(DIAMOND, jobs=2).run(record)
    assert record.most_at_once == 2
    assert record.index("start", "b") > record.index("end", "a")
    assert record.index("start", "c") > record.index("end", "a")
    assert record.index("start", "d") > max(record.index("end", "b"), record.index("end", "c"))


def test_never_more_tasks_at_once_than_jobs() -> None:
    record = Recorder()
    Scheduler({name: () for name in "abcde"}, jobs=3).run(record)
    assert record.most_at_once == 3
    assert sorted(record.starts()) == list("abcde")


def test_a_settled_task_does_not_run_and_its_dependents_see_its_result() -> None:
    record = Recorder(seconds=0.01)
    seen: dict[str, dict[str, str]] = {}
    finished: list[str] = []

    def settle(task: str, results: Mapping[str, str]) -> str | None:
        seen[task] = dict(results)
        return "skipped" if task == "b" else None

    results = Scheduler(DIAMOND, jobs=2).run(
        record, settle=settle, finished=lambda task, result: finished.append(task))
    assert "b" not in record.starts()
    assert results["b"] == "skipped"
    assert seen["d"] == {"a": "a done", "b": "skipped", "c": "c done"}
    assert sorted(finished) == ["a", "c", "d"]  # only what started
    assert list(results) == ["a", "b", "c", "d"]


def test_a_failing_task_raises_after_what_runs_beside_it_ends() -> None:
    record = Recorder(seconds=0.1)

    def start(task: str) -> str:
        if task == "b":
            raise RuntimeError("boom")
        return record(task)

    with pytest.raises(RuntimeError, match="boom"):
        Scheduler({"a": (), "b": (), "c": ("b",)}, jobs=2).run(start)
    assert ("end", "a") in record.events
    assert "c" not in record.starts()


@pytest.mark.parametrize("needs, problem", [
    ({"a": ("b",), "b": ()}, "a needs b"),
    ({"a": ("a",)}, "a needs a"),
    ({"a": (), "b": ("nowhere",)}, "b needs nowhere"),
])
def test_needs_must_name_tasks_declared_before(needs, problem) -> None:
    with pytest.raises(ValueError, match=problem):
        Scheduler(needs, jobs=1)


def test_jobs_must_be_one_or_more() -> None:
    with pytest.raises(ValueError, match="jobs must be 1 or more"):
        Scheduler(DIAMOND, jobs=0)


def test_the_pipeline_stages_form_a_valid_schedule() -> None:
    record = Recorder(seconds=0.0)
    Scheduler(NEEDS, jobs=1).run(record)
    assert record.starts() == ["validate", "train", "test_core", "test_nlu", "cross_validate"]


def test_tasks_of_one_lane_never_overlap_and_a_free_job_goes_to_another_lane() -> None:
    # The pipeline's shape: two tests of one model (one lane) and cross-validation.
    needs = {"train": (), "core": ("train",), "nlu": ("train",), "cv": ("train",)}
    record = Recorder(seconds=0.1)
    Scheduler(needs, jobs=2, lanes={"core": "model", "nlu": "model"}).run(record)
    assert record.index("start", "nlu") > record.index("end", "core")
    # While core held the lane, the second job went to cv, although nlu was declared first.
    assert record.starts() == ["train", "core", "cv", "nlu"]
    assert record.most_at_once == 2


def test_the_pipeline_test_stages_share_one_lane() -> None:
    record = Recorder(seconds=0.05)
    Scheduler(NEEDS, jobs=3, lanes=LANES).run(record)
    core_end, nlu_start = record.index("end", "test_core"), record.index("start", "test_nlu")
    nlu_end, core_start = record.index("end", "test_nlu"), record.index("start", "test_core")
    assert nlu_start > core_end or core_start > nlu_end
