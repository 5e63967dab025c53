"""The scan API benchmark's section of ``docs/benchmarks.md``: the service against the engine alone,
and their throughput ratio against the target."""

from __future__ import annotations

from typing import Any

TARGET_RATIO = 0.8


def build_report(ctx: dict[str, Any]) -> str:
    m, svc, eng = ctx["machine"], ctx["service"], ctx["engine"]
    ratio = svc["rps"] / eng["rps"] if eng["rps"] else 0.0
    verdict = "meets" if ratio >= TARGET_RATIO and not svc["errors"] else "MISSES"
    lines = [
        "## Scan API: service vs engine (`bench/scan_api.py`)",
        "",
        f"- Command: `{ctx['command']}`",
        f"- Date: {ctx['date']}",
        f"- Machine: {m['cpu']}, {m['usable_cores']} usable cores, {m['ram_gib']:.1f} GiB, "
        f"Python {m['python']}, torch {m['torch']}; load average at start {m['loadavg'][0]:.2f}",
        f"- Server: gunicorn, {ctx['workers']} sync workers × 1 torch thread, DEBUG off, PostgreSQL "
        f"(`{ctx['database']}`), Redis throttles and broker, local media storage",
        f"- Input: {ctx['image_desc']}, {ctx['image_bytes'] / 1024:.0f} KiB; weights: {ctx['weights_desc']}",
        f"- Load: {ctx['requests']} `POST /api/v1/scans` (multipart, synchronous 200) from "
        f"{ctx['clients']} concurrent clients, after {ctx['warmup']} warm-up requests",
        "",
        "| | requests/s | p50 latency | p95 latency | errors |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| service, {ctx['clients']} clients | {svc['rps']:.2f} | {svc['p50_ms']:.0f} ms | "
        f"{svc['p95_ms']:.0f} ms | {svc['errors']} |",
    ]
    for e in ctx["engines"]:
        best = " (baseline: the faster)" if e is eng else ""
        lines.append(
            f"| engine alone, sequential, {e['threads']} torch thread(s), {e['runs']} runs{best} | "
            f"{e['rps']:.2f} | {e['p50_ms']:.0f} ms | {e['p95_ms']:.0f} ms | – |"
        )
    lines += [
        "",
        f"Service/engine throughput: **{ratio:.2f}** (target ≥ {TARGET_RATIO}, zero errors): "
        f"{verdict} the target.",
    ]
    if ctx["notes"]:
        lines += ["", "Notes:"] + [f"- {note}" for note in ctx["notes"]]
    return "\n".join(lines) + "\n"
