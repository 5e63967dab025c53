"""Scan API benchmark: image scans through the whole service against the engine alone, on this machine.

Measures, in one run:
  1. the service: POST /api/v1/scans (multipart, one JPEG photo) from 8 concurrent clients against a
     production-style server started here (gunicorn, DEBUG off, PostgreSQL, Redis for throttles and
     the broker, local media storage): requests/s, p50/p95 latency, errors;
  2. the engine alone: Detector.analyze_image on the same bytes, in this process, sequentially;
  3. the ratio service/engine throughput (target >= 0.8: web, database and storage cost little).

The server and the engine never run at the same time. Needs PostgreSQL and Redis (as .ci/run starts
them): DATABASE_URL (default postgres://postgres@127.0.0.1:5432/fakeme_bench, created if missing)
and REDIS_URL (default redis://127.0.0.1:6379/0).

    python -m bench.scan_api                 # full run, updates docs/benchmarks.md (`make bench-scan`)
    python -m bench.scan_api --quick --no-write
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
from pathlib import Path

from bench.common import DEFAULT_OUT, Section, command_line, cpu_busy_share, machine_info, percentile
from bench.scan_api_inputs import bench_image, bench_weights
from bench.scan_api_measure import engine_sequential, load
from bench.scan_api_report import TARGET_RATIO, build_report
from bench.scan_api_server import ensure_database, ensure_redis, free_port, gunicorn, manage

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/fakeme_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Its parts: ``scan_api_inputs`` (the photo and the weights), ``scan_api_server`` (database, Redis,
# gunicorn), ``scan_api_measure`` (the clients and the engine alone) and ``scan_api_report`` (the
# section of ``docs/benchmarks.md``).
SECTION = Section("scan_api")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scan_api",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="few requests: a smoke run, timings not meaningful"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print the report, do not touch docs/benchmarks.md"
    )
    parser.add_argument("--requests", type=int, help="scans sent to the service (default 160, quick 16)")
    parser.add_argument("--engine-runs", type=int, help="sequential engine calls (default 40, quick 4)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="gunicorn workers")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown file to update")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    total = args.requests or (16 if args.quick else 160)
    engine_runs = args.engine_runs or (4 if args.quick else 40)
    warmup = 2 * args.workers
    database_url = os.environ.get("DATABASE_URL", "") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL", "") or DEFAULT_REDIS_URL
    if not database_url.startswith("postgres"):
        raise SystemExit(f"DATABASE_URL must be PostgreSQL for this benchmark, not {database_url!r}")
    ensure_database(database_url)
    ensure_redis(redis_url)

    machine = machine_info("torch")
    notes: list[str] = []
    busy = cpu_busy_share()
    if busy > 0.2:
        notes.append(f"{busy:.0%} of the CPUs were busy with other work at start: timings are skewed")
        print(f"warning: {busy:.0%} of the CPUs are busy with other work", file=sys.stderr)
    if args.quick:
        notes.append("quick run: too few requests for meaningful timings")

    image, image_desc = bench_image()
    with tempfile.TemporaryDirectory(prefix="fakeme-bench-") as tmp_name:
        tmp = Path(tmp_name)
        weights, weights_desc = bench_weights(tmp)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "moderation.settings",
            "DEBUG": "False",
            "SECURE_SSL_REDIRECT": "False",  # plain HTTP on loopback, no TLS proxy in front
            "SECRET_KEY": secrets.token_urlsafe(32),
            "WATERMARK_KEY": secrets.token_urlsafe(32),  # required with DEBUG off
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CACHE_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "MEDIA_ROOT": str(tmp / "media"),
            "DETECTOR_WEIGHTS": str(weights),
            "DETECTOR_THREADS": "1",
            "LOG_LEVEL": "WARNING",
            "DJANGO_LOG_LEVEL": "WARNING",
        }
        print("- migrating the benchmark database ...", flush=True)
        manage(env, "migrate", "--noinput")
        name = f"bench-{dt.datetime.now():%Y%m%d-%H%M%S}"
        created = json.loads(manage(env, "create_platform", name, "--rate-limit", "1000000/min", "--json"))
        port = free_port()
        url = f"http://127.0.0.1:{port}/api/v1/scans"
        print(f"- starting gunicorn ({args.workers} workers) on 127.0.0.1:{port} ...", flush=True)
        with gunicorn(env, port, args.workers, tmp / "gunicorn.log"):
            warm = load(url, created["api_key"], image, warmup, min(args.clients, warmup))
            if warm.errors:
                raise SystemExit(f"warm-up failed: {warm.errors[0]}")
            print(f"- {total} scans from {args.clients} clients ...", flush=True)
            result = load(url, created["api_key"], image, total, args.clients)
        # The engine's best sequential setting is the baseline: torch's default thread count, or one
        # thread (on small VMs, OpenMP across all vCPUs can be many times slower than one thread).
        engines = []
        for threads in (None, 1):
            label = "default" if threads is None else threads
            print(
                f"- engine alone ({label} threads): {engine_runs} sequential analyze_image calls ...",
                flush=True,
            )
            engines.append(engine_sequential(weights, image, engine_runs, warmup=2, threads=threads))
        engine = max(engines, key=lambda e: e["rps"])

    service = {
        "rps": result.rps,
        "p50_ms": statistics.median(result.latencies_s) * 1000 if result.latencies_s else 0.0,
        "p95_ms": percentile(result.latencies_s, 95) * 1000 if result.latencies_s else 0.0,
        "errors": len(result.errors),
    }
    if result.errors:
        notes.append(f"first error: {result.errors[0]}")
    command = command_line("scan_api", argv if argv is not None else sys.argv[1:])
    report = build_report(
        {
            "machine": machine,
            "service": service,
            "engine": engine,
            "engines": engines,
            "command": command.strip(),
            "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "workers": args.workers,
            "clients": args.clients,
            "requests": total,
            "warmup": warmup,
            "database": re.sub(r"//[^@/]*@", "//", database_url),
            "image_desc": image_desc,
            "image_bytes": len(image),
            "weights_desc": weights_desc,
            "notes": notes,
        }
    )
    print()
    SECTION.publish(args.out, report, not args.no_write)
    ratio = service["rps"] / engine["rps"] if engine["rps"] else 0.0
    return 0 if not result.errors and (args.quick or ratio >= TARGET_RATIO) else 1


if __name__ == "__main__":
    raise SystemExit(main())
