"""What every benchmark shares: the machine it ran on, timing, and its section of ``docs/benchmarks.md``.

- ``machine_info``: CPU, cores, RAM, Python and package versions, the load average; ``StealMeter``:
  the CPU time the hypervisor gave to other guests during the run; ``cpu_busy_share``: how busy the
  CPUs were before it;
- ``time_calls``, ``median_s``, ``pct``, ``percentile``: timings and their percentiles;
- ``Section``: one benchmark's section of ``docs/benchmarks.md``, rewritten between its markers, and
  ``command_line``: how the run was started, for the section.

Plain Python and numpy: importing this loads neither torch nor the project (a benchmark's child
process may set ``OMP_WAIT_POLICY`` before torch loads).
"""

from __future__ import annotations

import os
import platform
import re
import shlex
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
CACHE = ROOT / ".cache" / "bench"

# ----------------------------------------------------------------------------- machine

# Report name -> module, for ``machine_info(*packages)``.
PACKAGES = {
    "torch": "torch",
    "opencv": "cv2",
    "numpy": "numpy",
    "onnxruntime": "onnxruntime",
    "pyav": "av",
    "dlib": "dlib",
}


def _version(module: str) -> str:
    try:
        return str(__import__(module).__version__)
    except ImportError:
        return "not installed"


def _cpu() -> tuple[str, list[str]]:
    """The CPU's model name and its feature flags (of the first CPU listed), from /proc/cpuinfo."""
    cpu, flags = "unknown", ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and cpu == "unknown":
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = line.split(":", 1)[1]
    except OSError:
        pass
    return cpu, flags.split()


def machine_info(*packages: str) -> dict[str, Any]:
    """This machine: ``cpu``, ``cpu_flags``, ``cores`` (all), ``usable_cores`` (this process's
    affinity), ``ram_gib``, ``python``, ``loadavg`` (1 / 5 / 15 min, now), and the version of each
    of ``packages`` (names of ``PACKAGES``; "not installed" when absent)."""
    cpu, flags = _cpu()
    mem_kib = 0
    try:
        match = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        mem_kib = int(match.group(1)) if match else 0
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "cpu_flags": flags,
        "cores": os.cpu_count() or 0,
        "usable_cores": len(os.sched_getaffinity(0)),
        "ram_gib": mem_kib / 1024**2,
        "python": platform.python_version(),
        "loadavg": os.getloadavg(),
    }
    for name in packages:
        info[name] = _version(PACKAGES[name])
    return info


def loadavg_text(loadavg: Iterable[float]) -> str:
    """``0.44 / 0.51 / 0.60``: the 1 / 5 / 15 min load averages as the reports print them."""
    return " / ".join(f"{x:.2f}" for x in loadavg)


def cpu_busy_share(seconds: float = 2.0) -> float:
    """Share of all CPUs busy over a short window (from /proc/stat): other work skews every timing."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        return sum(values) - idle, sum(values)

    busy0, total0 = sample()
    time.sleep(seconds)
    busy1, total1 = sample()
    return (busy1 - busy0) / max(total1 - total0, 1)


# CPU time the hypervisor gave to other guests ("steal", /proc/stat) while a benchmark ran. On a
# shared VM the same code can run at half speed when a neighbour is busy, and the load average does
# not show it: the benchmarks report the steal share beside their timings.
STEAL_WARN_SHARE = 0.05  # above this the timings say more about the neighbours than about this machine


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
        """The report's line on steal since the start (a warning above ``STEAL_WARN_SHARE``); None if
        unknown."""
        share = self.share()
        if share is None:
            return None
        line = f"Hypervisor steal during the run: {share:.0%} of CPU time"
        if share > STEAL_WARN_SHARE:  # the VM's cores were partly given to other guests
            return f"WARNING: {line}; timings are slower than this machine's own speed."
        return line + "."


# ----------------------------------------------------------------------------- timing


def time_calls(fn: Callable[[], object], runs: int, warmup: int) -> list[float]:
    """Wall times in ms of ``runs`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def median_s(fn: Callable[[], object], runs: int, warmup: int = 1) -> float:
    """Median wall time in seconds of ``runs`` calls after ``warmup`` untimed ones."""
    return statistics.median(time_calls(fn, runs, warmup)) / 1000


def pct(times: list[float]) -> dict[str, float]:
    """p50, p95 (linear interpolation), mean, min and count of ``times``."""
    arr = np.asarray(times, dtype=np.float64)
    return {
        "p50": float(np.percentile(arr, 50)),
        "p95": float(np.percentile(arr, 95)),
        "mean": float(arr.mean()),
        "min": float(arr.min()),
        "n": len(times),
    }


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile of ``values`` by nearest rank (one of the values, no interpolation)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


# ----------------------------------------------------------------------------- docs/benchmarks.md

HEADER = (
    "# Benchmarks\n\nMeasured on the project's reference machine by the scripts in `bench/`. "
    "Each script rewrites only its own section, between its markers.\n\n"
)


def command_line(script: str, args: Iterable[str]) -> str:
    """``python -m bench.SCRIPT ARGS``, quoted as a shell would need them (the section's command)."""
    return " ".join(["python", "-m", f"bench.{script}", *(shlex.quote(a) for a in args)])


@dataclass(frozen=True)
class Section:
    """One benchmark's section of ``docs/benchmarks.md``: between ``<!-- bench:NAME start -->`` and
    ``<!-- bench:NAME end -->``; every other section stays as it is."""

    name: str

    @property
    def start(self) -> str:
        return f"<!-- bench:{self.name} start -->"

    @property
    def end(self) -> str:
        return f"<!-- bench:{self.name} end -->"

    def write(self, out: Path, body: str) -> None:
        """Replace the section in ``out`` (create the file, or append the section), and say so."""
        section = f"{self.start}\n{body}{self.end}\n"
        if out.is_file():
            text = out.read_text()
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            text = HEADER
        start, end = text.find(self.start), text.find(self.end)
        if start != -1 and end > start:
            rest = text[end + len(self.end) :].lstrip("\n")
            text = text[:start] + section + ("\n" + rest if rest else "")
        else:
            text = text.rstrip("\n") + "\n\n" + section
        out.write_text(text)
        print(f"updated {out}", flush=True)

    def publish(self, out: Path, body: str, write: bool = True) -> None:
        """Print the section's body and, unless told not to, write it into ``out``."""
        print(body, flush=True)
        if write:
            self.write(out, body)
