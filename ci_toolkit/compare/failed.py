"""The measurements of a comparison that rasa could not make, and why, in its words."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ci_toolkit.proc import strip_ansi

MAX_LISTED = 5


@dataclass(frozen=True)
class Failed:
    config: str
    run: int
    percentage: int
    reason: str | None  # rasa's words, when it printed any

    def __str__(self) -> str:
        where = f"{self.config!r} in run {self.run} at {self.percentage}% exclusion"
        return f"{where}: {self.reason}" if self.reason else f"{where}: no model was written"

    @staticmethod
    def message(failures: Sequence[Failed], *, what: str) -> str:
        listed = "; ".join(str(failure) for failure in failures[:MAX_LISTED])
        more = len(failures) - MAX_LISTED
        tail = f" (and {more} more)" if more > 0 else ""
        return (f"{what} could not train {len(failures)} of its models: {listed}{tail}. "
                "Fix the configuration (train it alone with `rasa train` to see the whole "
                "error) and compare again.")


def failed_training(log_text: str, pattern: re.Pattern[str]) -> dict[str, str]:
    """Config name -> the last reason rasa logged for a failed training of it."""
    reasons: dict[str, str] = {}
    for line in strip_ansi(log_text).splitlines():
        match = pattern.search(line)
        if match:
            reasons[match["name"]] = match["reason"].strip()
    return reasons
