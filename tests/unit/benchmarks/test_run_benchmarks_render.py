"""benchmarks/run_benchmarks.py's latest-run column: the last run of a scenario against the
cold run of the same code and day (the medians mix every day's code), and the raw sequence
of the same day."""

from __future__ import annotations

from benchmarks.run_benchmarks import latest_cell


def _run(wall: float, date: str, commit: str) -> dict:
    return {"wall_s": wall, "date": date, "commit": commit}


RUNS = {
    "raw": [_run(900.0, "2026-12-02 00:17", "aaa"), _run(800.0, "2026-12-02 01:00", "aaa")],
    "cold": [_run(460.0, "2026-12-02 00:24", "aaa+changes"),
             _run(470.0, "2026-12-02 02:28", "bbb")],
    "response": [_run(65.0, "2026-12-02 00:31", "aaa+changes"),
                 _run(47.0, "2026-12-02 02:34", "bbb+changes")],
    "story": [_run(90.0, "2026-12-03 10:00", "ccc")],
}


def test_the_last_run_is_compared_with_the_cold_run_of_its_own_code_and_day() -> None:
    # bbb+changes is bbb: the changes were the benchmark's own result files.
    assert latest_cell(RUNS, "response") == "47.0, 0.100x cold, 0.055x raw (bbb, 12-02)"


def test_a_ratio_without_a_run_to_compare_with_is_left_out() -> None:
    assert latest_cell(RUNS, "story") == "90.0 (ccc, 12-03)"
    assert latest_cell(RUNS, "cold") == "470.0, 0.553x raw (bbb, 12-02)"
    assert latest_cell(RUNS, "raw") == "800.0 (aaa, 12-02)"
    assert latest_cell(RUNS, "nlu") == ""
