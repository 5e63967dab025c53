"""CPU time the hypervisor gave to other guests ("steal", /proc/stat) while a benchmark ran.

On a shared VM the same code can run at half speed when a neighbour is busy, and the load
average does not show it: the benchmarks report the steal share beside their timings.
"""

from __future__ import annotations

from pathlib import Path

WARN_SHARE = 0.05  # above this the timings say more about the neighbours than about this machine


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

    def note(self) -> str | None:
        """The report's line on steal since the start (a warning above ``WARN_SHARE``); None if unknown."""
        share = self.share()
        if share is None:
            return None
        line = f"Hypervisor steal during the run: {share:.0%} of CPU time"
        if share > WARN_SHARE:  # the VM's cores were partly given to other guests
            return f"WARNING: {line}; timings are slower than this machine's own speed."
        return line + "."
