"""Retries and polling in bounded time, against a fake clock that only moves when slept on."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from ci_toolkit.retry import Backoff, GaveUp, Transient, poll, retry


class FakeTime:
    """A clock that advances by what is slept, plus ``work_s`` per call of the attempt."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def failing(times: int, *, result: str = "done", retry_after_s: float = 0.0,
            work_s: float = 0.0, clock: FakeTime | None = None) -> tuple[list[int], Callable[[int], str]]:
    calls: list[int] = []

    def attempt(number: int) -> str:
        calls.append(number)
        if clock is not None:
            clock.now += work_s
        if len(calls) <= times:
            raise Transient(f"failure {number}", retry_after_s=retry_after_s)
        return result

    return calls, attempt


def run(fake: FakeTime, attempt: Callable[[int], str], **bounds: Any) -> str:
    """retry() on the fake clock with a 1 s doubling backoff up to 15 s."""
    bounds.setdefault("backoff", Backoff(1.0, 15.0))
    return retry(attempt, sleep=fake.sleep, clock=fake.clock, **bounds)


def gives_up(fake: FakeTime, attempt: Callable[[int], str], **bounds: Any) -> GaveUp:
    with pytest.raises(GaveUp) as caught:
        run(fake, attempt, **bounds)
    return caught.value


def test_backoff_doubles_up_to_the_maximum() -> None:
    assert list(itertools.islice(Backoff(1.0, 5.0).delays(), 5)) == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert list(itertools.islice(Backoff(0.5, 10.0, factor=3).delays(), 3)) == [0.5, 1.5, 4.5]


def test_retry_returns_after_transient_failures_and_reports_each_retry() -> None:
    fake = FakeTime()
    calls, attempt = failing(2)
    seen: list[tuple[int, str, float]] = []

    result = run(fake, attempt, attempts=5,
                 on_retry=lambda n, f, d: seen.append((n, f.reason, d)))

    assert result == "done"
    assert calls == [1, 2, 3]
    assert fake.slept == [1.0, 2.0]
    assert seen == [(1, "failure 1", 1.0), (2, "failure 2", 2.0)]


def test_retry_gives_up_after_the_attempts() -> None:
    fake = FakeTime()
    calls, attempt = failing(10, work_s=0.5, clock=fake)

    gave_up = gives_up(fake, attempt, attempts=3)

    assert calls == [1, 2, 3]
    assert fake.slept == [1.0, 2.0]  # no wait after the last attempt
    assert gave_up.attempts == 3
    assert gave_up.elapsed_s == pytest.approx(1.5 + 3.0)
    assert gave_up.last.reason == "failure 3" and str(gave_up) == "failure 3"


def test_retry_gives_up_when_the_next_wait_would_pass_the_time_budget() -> None:
    fake = FakeTime()
    calls, attempt = failing(100)

    gave_up = gives_up(fake, attempt, total_s=10.0)

    # Waits 1 + 2 + 4 = 7 s; the next wait (8 s) would end at 15 s, past the 10 s budget.
    assert fake.slept == [1.0, 2.0, 4.0]
    assert calls == [1, 2, 3, 4]
    assert (gave_up.attempts, gave_up.elapsed_s) == (4, 7.0)


def test_the_time_budget_counts_the_attempts_own_time() -> None:
    fake = FakeTime()
    calls, attempt = failing(100, work_s=4.0, clock=fake)

    gave_up = gives_up(fake, attempt, total_s=10.0)

    # 4 s work + 1 s wait + 4 s work = 9 s; a 2 s wait would reach 11 s.
    assert calls == [1, 2] and fake.slept == [1.0]
    assert gave_up.elapsed_s == 9.0


def test_the_first_bound_reached_wins() -> None:
    fake = FakeTime()
    calls, attempt = failing(100)
    gives_up(fake, attempt, attempts=2, total_s=1000.0)
    assert calls == [1, 2]


@pytest.mark.parametrize(("retry_after_s", "waited"), [
    (7.0, 7.0),
    (3600.0, 15.0),  # capped at the maximum backoff
    (0.2, 1.0),      # shorter than the backoff: the backoff wins
])
def test_retry_after_is_honoured_but_capped_at_the_maximum_backoff(retry_after_s: float,
                                                                   waited: float) -> None:
    fake = FakeTime()
    _calls, attempt = failing(1, retry_after_s=retry_after_s)
    run(fake, attempt, attempts=3)
    assert fake.slept == [waited]


def test_other_errors_pass_through_at_once() -> None:
    fake = FakeTime()
    calls: list[int] = []

    def attempt(number: int) -> str:
        calls.append(number)
        raise KeyError("not transient")

    with pytest.raises(KeyError, match="not transient"):
        run(fake, attempt, attempts=5)
    assert calls == [1] and fake.slept == []


def test_retry_needs_a_bound() -> None:
    with pytest.raises(ValueError, match="needs a bound"):
        retry(lambda _n: None, backoff=Backoff())


def test_poll_returns_the_first_result() -> None:
    fake = FakeTime()
    answers = iter([None, None, "ready"])

    assert poll(lambda: next(answers), timeout_s=60, interval_s=2, sleep=fake.sleep,
                clock=fake.clock) == "ready"
    assert fake.slept == [2, 2]


def test_poll_checks_once_more_at_the_deadline_then_gives_none() -> None:
    fake = FakeTime()
    checks: list[float] = []

    def check() -> None:
        checks.append(fake.now - 1000.0)
        return None

    assert poll(check, timeout_s=5, interval_s=2, sleep=fake.sleep, clock=fake.clock) is None
    assert checks == [0, 2, 4, 5]
    assert fake.slept == [2, 2, 1]


def test_poll_checks_at_least_once_even_without_time() -> None:
    fake = FakeTime()
    assert poll(lambda: None, timeout_s=0, interval_s=1, sleep=fake.sleep,
                clock=fake.clock) is None
    assert poll(lambda: 0, timeout_s=0, interval_s=1, sleep=fake.sleep, clock=fake.clock) == 0
    assert fake.slept == []


def test_a_slow_check_uses_up_the_time() -> None:
    fake = FakeTime()
    checks: list[int] = []

    def check() -> None:
        checks.append(1)
        fake.now += 3.0
        return None

    assert poll(check, timeout_s=5, interval_s=1, sleep=fake.sleep, clock=fake.clock) is None
    assert len(checks) == 2 and fake.slept == [1.0]
