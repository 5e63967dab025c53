"""Load benchmark: N platforms x M concurrent clients for a fixed time against a production-style FakeME.

The service is the one ``bench/stack.py`` starts on loopback, from nothing: its own PostgreSQL and Redis
(never the machine's shared ones), gunicorn (``moderation.gunicorn_conf``, DEBUG off), two Celery
prefork workers and celery beat. Every client belongs to one platform (its own API key) and loops over
a weighted mix:

  scan_image  POST /api/v1/scans, one small face photo, scanned within the request (200)
  scan_get    GET  /api/v1/scans/{id}, one of its platform's earlier scans (200)
  report      POST /api/v1/reports on an earlier scan (201: queues a re-scan for the workers)
  scan_video  POST /api/v1/scans, a 6 s mp4v clip (202: queued for the workers)

Reported: requests/s, p50/p95/p99 latency per kind after the warm-up, errors (any other status or a
failed request; target 0), whether every queued scan completed once the load stopped, and the resident
memory (VmRSS) of every gunicorn and Celery process, sampled every 2 s, with its growth from the end of
the warm-up to the end of the run (target <= 10 %).

    python -m bench.load                                  # 3 platforms x 4 clients x 60 s, docs/benchmarks.md
    python -m bench.load --platforms 1 --clients 2 --duration 20 --warmup 5 --no-write   # a smoke run
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import DEFAULT_OUT, Section, command_line, cpu_busy_share, machine_info, percentile
from bench.load_inputs import face_images, face_video
from bench.load_report import MEMORY_GROWTH_TARGET, build_report
from bench.load_run import MIX, SAMPLE_EVERY_S, MemorySampler, Sample, Shared, client, drain
from bench.stack import DEFAULT_WEIGHTS, Stack, missing_binaries

# Its parts: ``load_inputs`` (the photos and the clip), ``load_run`` (clients, memory sampler, drain)
# and ``load_report`` (the section of ``docs/benchmarks.md``); the service is ``bench/stack.py``'s.
SECTION = Section("load")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--platforms", type=int, default=3, help="platforms, each with its own key (3)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients per platform (4)")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds (60)")
    parser.add_argument("--warmup", type=float, default=15.0, help="warm-up seconds before them (15)")
    parser.add_argument("--web-workers", type=int, default=len(os.sched_getaffinity(0)), help="gunicorn")
    parser.add_argument("--note", action="append", default=[], help="a note for the report (repeatable)")
    parser.add_argument("--no-write", action="store_true", help="print the report only")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown file to update")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    missing = missing_binaries()
    if missing:
        raise SystemExit(f"bench.load needs {', '.join(missing)} (PostgreSQL and Redis server binaries)")
    notes = list(args.note)
    busy = cpu_busy_share()
    load_before = os.getloadavg()
    if busy > 0.2:
        notes.append(f"{busy:.0%} of the CPUs were busy with other work at the start: timings are skewed")
    images, images_desc = face_images(24)

    with tempfile.TemporaryDirectory(prefix="fakeme-load-") as tmp_name:
        tmp = Path(tmp_name)
        video = face_video(tmp / "clip.mp4")
        weights = DEFAULT_WEIGHTS
        if not (weights.is_file() and weights.with_suffix(".json").is_file()):
            raise SystemExit(f"the detector weights are missing: {weights}")
        stack = Stack(tmp / "stack", weights=weights)
        try:
            print("- starting PostgreSQL and Redis ...", flush=True)
            stack.start()
            print(
                f"- gunicorn ({args.web_workers} workers), 2 Celery workers, beat; migrating ...", flush=True
            )
            stack.start_web(args.web_workers, wait=False)
            for name in ("w1", "w2"):
                stack.start_worker(name, wait=False)
            stack.start_beat()
            specs = [{"name": f"load-{i + 1}", "rate_limit": "1000000/min"} for i in range(args.platforms)]
            platforms = stack.setup(specs)
            stack.wait_web()
            for worker in stack.workers.values():
                stack.wait_worker(worker)
            pg_version = stack.postgres.query("SHOW server_version")[0][0]

            shared = Shared(images, video, stack.base_url)
            shared.started = time.perf_counter()
            sampler = MemorySampler(stack, shared.started)
            sampler_thread = threading.Thread(target=sampler.run, daemon=True)
            sampler_thread.start()
            span = f"{args.warmup:.0f} + {args.duration:.0f} s"
            print(f"- load: {args.platforms} x {args.clients} clients, {span}", flush=True)
            threads = [
                threading.Thread(target=client, args=(shared, p["key"], 1000 * i + j), daemon=True)
                for i, p in enumerate(platforms)
                for j in range(args.clients)
            ]
            for thread in threads:
                thread.start()
            time.sleep(args.warmup + args.duration)
            shared.stop.set()
            for thread in threads:
                thread.join(150)
            end_at = time.perf_counter() - shared.started
            sampler.stop.set()
            sampler_thread.join(10)
            print(f"- draining {len(shared.queued)} queued scans ...", flush=True)
            drained, drain_s = drain(stack, shared.queued)
        finally:
            stack.close()
    load_after = os.getloadavg()

    measured = [s for s in shared.samples if s.at >= args.warmup]
    span = max(end_at - args.warmup, 1e-9)

    def stats(kind: str, samples: list[Sample]) -> dict[str, Any]:
        ok = [s.seconds for s in samples if not s.error] or [0.0]
        return {
            "kind": kind,
            "count": len(samples),
            "rps": len(samples) / span,
            "p50": statistics.median(ok),
            "p95": percentile(ok, 95),
            "p99": percentile(ok, 99),
            "errors": sum(1 for s in samples if s.error),
        }

    kinds = [stats(kind, [s for s in measured if s.kind == kind]) for kind in MIX]
    errors = [s for s in shared.samples if s.error]
    if errors:
        notes.append(f"first error: {errors[0].kind}: {errors[0].error}")

    memory, memory_ok = [], True
    for role, series in sorted(sampler.series.items()):
        warm = [rss for at, rss in series if args.warmup - 3 * SAMPLE_EVERY_S <= at <= args.warmup]
        if not warm or len(series) < 3:
            notes.append(f"{role}: too few memory samples after the warm-up (process replaced?)")
            continue
        baseline = statistics.mean(warm)
        end = statistics.mean(rss for _, rss in series[-3:])
        growth = end / baseline - 1
        memory_ok &= growth <= MEMORY_GROWTH_TARGET
        memory.append({"role": role, "warm": baseline, "end": end, "max": max(r for _, r in series),
                       "growth": growth})  # fmt: skip

    # Notes appear under "Notes:" already: the command shows that one was given, not its text.
    raw = list(argv if argv is not None else sys.argv[1:])
    shown = ["…" if i > 0 and raw[i - 1] == "--note" else a for i, a in enumerate(raw)]
    nice = f"nice -n {os.nice(0)} " if os.nice(0) else ""
    args_text = " ".join(a if a == "…" else shlex.quote(a) for a in shown)
    command = f"{nice}{command_line('load', [])} {args_text}"
    report = build_report(
        {
            "command": command.strip(),
            "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "machine": machine_info(),
            "load_before": load_before,
            "load_after": load_after,
            "busy_before": busy,
            "web_workers": args.web_workers,
            "pg_version": pg_version,
            "weights": weights.name,
            "platforms": args.platforms,
            "clients": args.clients,
            "warmup": args.warmup,
            "duration": end_at - args.warmup,
            "images": images_desc,
            "video_kib": len(video) / 1024,
            "kinds": kinds,
            "total": stats("all", measured),
            "errors_all": len(errors),
            "queued": len(shared.queued),
            "drained": drained,
            "drain_s": drain_s,
            "memory": memory,
            "memory_ok": memory_ok,
            "notes": notes,
        }
    )
    print()
    SECTION.publish(args.out, report, not args.no_write)
    all_done = drained.get("completed", 0) == len(shared.queued)
    return 0 if not errors and all_done and memory_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
