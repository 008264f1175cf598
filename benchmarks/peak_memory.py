"""Peak resident memory of a process and everything it starts, sampled from /proc.

`--jobs` runs several rasa processes at once, so what decides whether a machine can afford
it is their memory together, not the largest one alone (which is all getrusage reports).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    """Every running process's children, by parent pid."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended while we looked
            continue
        # The command name, in parentheses, may hold spaces; the fields after it are fixed.
        fields = text[text.rindex(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return children


def tree_rss_bytes(root: int) -> int:
    """Resident memory of `root` and all its descendants, now."""
    children = _children()
    tree, frontier = {root}, [root]
    while frontier:
        found = [pid for pid in children.get(frontier.pop(), []) if pid not in tree]
        tree.update(found)
        frontier.extend(found)
    total = 0
    for pid in tree:
        try:
            resident_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += resident_pages * PAGE_BYTES
    return total


class PeakMemory:
    """Samples a process tree's memory every `interval` seconds until stopped."""

    def __init__(self, root: int, interval: float = 0.5) -> None:
        self.root, self.interval = root, interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(self.root))
            self._stop.wait(self.interval)
