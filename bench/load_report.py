"""The load benchmark's section of ``docs/benchmarks.md``: requests per kind with their latencies and
errors, the queued scans, the resident memory of every process, and the targets."""

from __future__ import annotations

from typing import Any

from bench.load_run import MIX, SAMPLE_EVERY_S

MEMORY_GROWTH_TARGET = 0.10


def mb(value: float) -> str:
    return f"{value / 2**20:.0f} MiB"


def build_report(ctx: dict[str, Any]) -> str:
    m = ctx["machine"]
    lines = [
        "## Load: platforms x clients against the whole service (`bench/load.py`)",
        "",
        f"- Command: `{ctx['command']}`",
        f"- Date: {ctx['date']}",
        f"- Machine: {m['cpu']}, {m['usable_cores']} usable cores, {m['ram_gib']:.1f} GiB, "
        f"Python {m['python']}; "
        f"load average {ctx['load_before'][0]:.2f} before, {ctx['load_after'][0]:.2f} after; "
        f"{ctx['busy_before']:.0%} of the CPUs busy with other work before the run",
        f"- Service (all on loopback, started by `bench/stack.py`): gunicorn with {ctx['web_workers']} sync "
        f"workers, PostgreSQL {ctx['pg_version']} (own cluster), Redis (own server) as broker and cache, "
        f"2 Celery prefork workers (`-c 1`, inference and default queues), celery beat; DEBUG off; "
        f"detector {ctx['weights']}",
        f"- Load: {ctx['platforms']} platforms x {ctx['clients']} clients = "
        f"{ctx['platforms'] * ctx['clients']} "
        f"concurrent clients for {ctx['warmup']:.0f} s warm-up + {ctx['duration']:.0f} s measured; mix "
        + ", ".join(f"{kind} {share:.0%}" for kind, share in MIX.items())
        + f"; images: {ctx['images']}; video: 6 s mp4v clip, 320x240 ({ctx['video_kib']:.0f} KiB); "
        "platform rate limits raised so that throttling does not count as an error",
        "",
        "| request | count | per second | p50 | p95 | p99 | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in ctx["kinds"]:
        lines.append(
            f"| {row['kind']} | {row['count']} | {row['rps']:.2f} | {row['p50'] * 1000:.0f} ms | "
            f"{row['p95'] * 1000:.0f} ms | {row['p99'] * 1000:.0f} ms | {row['errors']} |"
        )
    total = ctx["total"]
    lines += [
        f"| **all** | {total['count']} | {total['rps']:.2f} | {total['p50'] * 1000:.0f} ms | "
        f"{total['p95'] * 1000:.0f} ms | {total['p99'] * 1000:.0f} ms | {total['errors']} |",
        "",
        f"Errors during the whole run (warm-up included): **{ctx['errors_all']}** (target 0). "
        f"Queued scans (videos and report re-scans): {ctx['queued']}, after the load "
        + ", ".join(f"{n} {s}" for s, n in sorted(ctx["drained"].items()))
        + f", drained {ctx['drain_s']:.0f} s after the load stopped.",
        "",
        f"Resident memory (VmRSS, sampled every {SAMPLE_EVERY_S:.0f} s): at the end of the warm-up, at the "
        "end of the run, the largest seen, and the growth from warm-up to end (target <= "
        f"{MEMORY_GROWTH_TARGET:.0%}).",
        "",
        "| process | after warm-up | end | max | growth |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for row in ctx["memory"]:
        lines.append(
            f"| {row['role']} | {mb(row['warm'])} | {mb(row['end'])} | {mb(row['max'])} | "
            f"{row['growth']:+.1%} |"
        )
    verdicts = [
        ("zero errors", ctx["errors_all"] == 0),
        ("every queued scan completed", ctx["drained"].get("completed", 0) == ctx["queued"]),
        (f"memory growth <= {MEMORY_GROWTH_TARGET:.0%} for every process", ctx["memory_ok"]),
    ]
    lines += [
        "",
        "Targets: " + "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in verdicts) + ".",
    ]
    if ctx["notes"]:
        lines += ["", "Notes:"] + [f"- {note}" for note in ctx["notes"]]
    return "\n".join(lines) + "\n"
