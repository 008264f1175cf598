"""The benchmark's memory sampler adds up a process and all it starts, not the largest alone."""

from __future__ import annotations

import os
import subprocess
import sys

from benchmarks.peak_memory import PeakMemory, tree_rss_bytes

MIB = 2**20
HOLD = "import time; block = bytearray({mib} * 2**20); time.sleep(3)"


def test_peak_counts_concurrent_children_together() -> None:
    # A parent that starts two children holding 120 and 80 MiB at the same time.
    parent = subprocess.Popen([sys.executable, "-c", (
        "import subprocess, sys\n"
        f"a = subprocess.Popen([sys.executable, '-c', {HOLD.format(mib=120)!r}])\n"
        f"b = subprocess.Popen([sys.executable, '-c', {HOLD.format(mib=80)!r}])\n"
        "a.wait(); b.wait()\n")])
    with PeakMemory(parent.pid, interval=0.1) as memory:
        parent.wait()
    assert parent.returncode == 0
    assert memory.peak_bytes >= 200 * MIB


def test_a_running_process_has_memory_and_a_missing_one_none() -> None:
    assert tree_rss_bytes(os.getpid()) > 0
    assert tree_rss_bytes(2**22 + 12345) == 0  # above the largest pid Linux hands out
