"""Retries with exponential backoff, and polling until something is ready, in bounded time.

Every loop in the toolkit that waits or tries again (HTTP calls to deployment targets, image
pushes, waiting for a container or a server to answer) goes through ``retry`` or ``poll``, so
each one has a bound, backs off the same way and reports each retry.
Standard library only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
Sleep = Callable[[float], None]
Clock = Callable[[], float]


@dataclass(frozen=True)
class Backoff:
    """Delays between attempts: first_s, then doubled each time, never above max_s."""

    first_s: float = 1.0
    max_s: float = 15.0
    factor: float = 2.0

    def delays(self) -> Iterator[float]:
        delay = self.first_s
        while True:
            yield delay
            delay = min(delay * self.factor, self.max_s)


class Transient(Exception):
    """A failure worth another attempt. ``retry_after_s`` is a server's hint (Retry-After)."""

    def __init__(self, reason: str, *, retry_after_s: float = 0.0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


class GaveUp(Exception):
    """The attempts or the time budget ran out; ``last`` is the last transient failure."""

    def __init__(self, last: Transient, *, attempts: int, elapsed_s: float) -> None:
        super().__init__(last.reason)
        self.last = last
        self.attempts = attempts
        self.elapsed_s = elapsed_s


def retry(
    attempt: Callable[[int], T],
    *,
    backoff: Backoff,
    attempts: int | None = None,
    total_s: float | None = None,
    on_retry: Callable[[int, Transient, float], None] | None = None,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
) -> T:
    """Call ``attempt(n)`` (n from 1) until it returns; it raises ``Transient`` to ask again.

    Stops after ``attempts`` tries or when the next wait would end past ``total_s`` seconds
    from the start, and then raises ``GaveUp``. Any other exception ends the loop at once.
    """
    if attempts is None and total_s is None:
        raise ValueError("retry needs a bound: attempts, total_s or both")
    started = clock()
    delays = backoff.delays()
    number = 0
    while True:
        number += 1
        try:
            return attempt(number)
        except Transient as failure:
            delay = max(next(delays), min(failure.retry_after_s, backoff.max_s))
            elapsed = clock() - started
            out_of_attempts = attempts is not None and number >= attempts
            out_of_time = total_s is not None and elapsed + delay >= total_s
            if out_of_attempts or out_of_time:
                raise GaveUp(failure, attempts=number, elapsed_s=elapsed) from None
            if on_retry is not None:
                on_retry(number, failure, delay)
            sleep(delay)


def poll(
    check: Callable[[], T | None],
    *,
    timeout_s: float,
    interval_s: float,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
) -> T | None:
    """Call ``check`` every ``interval_s`` until it returns something, or None after
    ``timeout_s`` (it is always called at least once, and once more at the deadline)."""
    deadline = clock() + timeout_s
    while True:
        result = check()
        if result is not None:
            return result
        remaining = deadline - clock()
        if remaining <= 0:
            return None
        sleep(min(interval_s, remaining))
