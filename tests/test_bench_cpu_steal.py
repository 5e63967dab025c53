"""bench/common.py's StealMeter: the share of CPU time the hypervisor gave to other guests during a run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench import common


def _stat(path: Path, user: int, idle: int, steal: int) -> None:
    path.write_text(f"cpu  {user} 0 0 {idle} 0 0 0 {steal} 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n")


def test_the_share_is_steal_over_all_cpu_time_between_start_and_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stat = tmp_path / "stat"
    real_path = common.Path
    monkeypatch.setattr(common, "Path", lambda p: stat if p == "/proc/stat" else real_path(p))
    _stat(stat, user=1000, idle=500, steal=100)
    meter = common.StealMeter()
    _stat(stat, user=1600, idle=700, steal=300)  # +600 user, +200 idle, +200 steal
    assert meter.share() == pytest.approx(200 / 1000)
    assert meter.note() == (
        "WARNING: Hypervisor steal during the run: 20% of CPU time; timings are slower than this "
        "machine's own speed."
    )
    _stat(stat, user=1980, idle=900, steal=120)  # +980 user, +400 idle, +20 steal: 1.4 %, no warning
    assert meter.note() == "Hypervisor steal during the run: 1% of CPU time."
    stat.write_text("intr 1 2 3\n")  # no aggregate cpu line: unknown, not zero
    assert meter.share() is None and meter.note() is None


def test_this_machine_reports_a_share_between_0_and_1() -> None:
    if not Path("/proc/stat").is_file():
        pytest.skip("no /proc/stat on this system")
    meter = common.StealMeter()
    time.sleep(0.2)  # 20 clock ticks per CPU at USER_HZ 100
    share = meter.share()
    assert share is not None and 0.0 <= share <= 1.0
