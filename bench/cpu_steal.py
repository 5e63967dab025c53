"""CPU time the hypervisor gave to other guests ("steal", /proc/stat) while a benchmark ran.

On a shared VM the same code can run at half speed when a neighbour is busy, and the load
average does not show it: the benchmarks report the steal share beside their timings.
"""

from __future__ import annotations

from pathlib import Path


def _cpu_times() -> tuple[int, int] | None:
    """(steal ticks, all ticks) of the aggregate ``cpu`` line, or None where /proc/stat has none."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if fields[0] != "cpu" or len(fields) < 9:
        return None
    ticks = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return ticks[7], sum(ticks)


class StealMeter:
    """``StealMeter()`` at the start; ``.share()`` at the end: steal ÷ all CPU time in between."""

    def __init__(self) -> None:
        self._start = _cpu_times()

    def share(self) -> float | None:
        end = _cpu_times()
        if self._start is None or end is None or end[1] <= self._start[1]:
            return None
        return (end[0] - self._start[0]) / (end[1] - self._start[1])
