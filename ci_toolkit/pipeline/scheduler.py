"""Run tasks that depend on each other, each as soon as what it needs has finished.

Up to ``jobs`` tasks run at a time, on threads (each task here waits on a rasa process).
When several tasks are ready, they start in the order they were declared, so with one job
the order is exactly the declared one. Tasks in the same *lane* never run at the same time
(the test stages share one rasa interpreter that holds the loaded model): while one runs,
a free job goes to a task of another lane.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Generic, TypeVar

T = TypeVar("T")


class Scheduler(Generic[T]):
    def __init__(self, needs: Mapping[str, tuple[str, ...]], *, jobs: int,
                 lanes: Mapping[str, str] | None = None) -> None:
        """``needs``: task -> the tasks that must have finished first, in declaration order.
        ``lanes``: task -> its lane, for the tasks that must not overlap each other."""
        if jobs < 1:
            raise ValueError(f"jobs must be 1 or more, got {jobs}")
        declared: set[str] = set()
        for task, required in needs.items():
            unknown = [need for need in required if need not in declared]
            if unknown:
                # Also rules out cycles: a task may only need tasks declared before it.
                raise ValueError(f"{task} needs {', '.join(unknown)}, which is not declared "
                                 "before it")
            declared.add(task)
        self.needs = dict(needs)
        self.jobs = jobs
        self.lanes = dict(lanes or {})

    def _can_start(self, task: str, results: Mapping[str, T], running: Mapping[object, str],
                   ) -> bool:
        if any(need not in results for need in self.needs[task]):
            return False
        lane = self.lanes.get(task)
        return lane is None or all(self.lanes.get(other) != lane for other in running.values())

    def run(self, start: Callable[[str], T], *,
            settle: Callable[[str, Mapping[str, T]], T | None] = lambda task, results: None,
            finished: Callable[[str, T], None] = lambda task, result: None) -> dict[str, T]:
        """Every task's result, in declaration order.

        Once a task's needs have finished, ``settle(task, results so far)`` may give its
        result without starting it (a task that is skipped); otherwise ``start(task)`` runs
        on a worker thread and ``finished(task, result)`` is called (on this thread) when it
        returns. An exception from ``start`` propagates after the running tasks end.
        """
        results: dict[str, T] = {}
        pending = list(self.needs)
        running: dict[Future[T], str] = {}
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            while pending or running:
                for task in list(pending):
                    if len(running) >= self.jobs:
                        break
                    if not self._can_start(task, results, running):
                        continue
                    pending.remove(task)
                    settled = settle(task, results)
                    if settled is not None:
                        results[task] = settled
                    else:
                        running[pool.submit(start, task)] = task
                if not running:
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    task = running.pop(future)
                    results[task] = future.result()
                    finished(task, results[task])
        return {task: results[task] for task in self.needs}
