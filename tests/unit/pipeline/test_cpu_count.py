"""--jobs auto counts the CPUs a container may use, not the host's."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_toolkit.pipeline.settings import cgroup_cpu_limit


def _v1(root: Path, quota: str, period: str = "100000") -> Path:
    (root / "cpu").mkdir(parents=True)
    (root / "cpu" / "cpu.cfs_quota_us").write_text(quota + "\n")
    (root / "cpu" / "cpu.cfs_period_us").write_text(period + "\n")
    return root


@pytest.mark.parametrize("content, expected", [
    ("max 100000\n", None),
    ("100000 100000\n", 1),
    ("150000 100000\n", 1),  # 1.5 CPUs: two rasa processes would not fit
    ("400000 100000\n", 4),
    ("50000 100000\n", 1),
    ("garbage\n", None),
])
def test_cgroup_v2_quota(tmp_path: Path, content: str, expected: int | None) -> None:
    (tmp_path / "cpu.max").write_text(content)
    assert cgroup_cpu_limit(tmp_path) == expected


def test_cgroup_v1_quota(tmp_path: Path) -> None:
    assert cgroup_cpu_limit(_v1(tmp_path / "a", "-1")) is None
    assert cgroup_cpu_limit(_v1(tmp_path / "b", "200000")) == 2


def test_no_cgroup_files_means_no_limit(tmp_path: Path) -> None:
    assert cgroup_cpu_limit(tmp_path) is None
