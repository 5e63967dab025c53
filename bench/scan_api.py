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

    python bench/scan_api.py                 # full run, updates docs/benchmarks.md
    python bench/scan_api.py --quick --no-write
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `detection` and `moderation` importable
    sys.path.insert(0, str(ROOT))

from bench import docs_section  # noqa: E402

DEFAULT_WEIGHTS = ROOT / "detection" / "weights" / "fakeme-effnetv2s.safetensors"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/fakeme_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
CACHE = ROOT / ".cache" / "bench"
MARK_START = "<!-- bench:scan_api start -->"
MARK_END = "<!-- bench:scan_api end -->"
TARGET_RATIO = 0.8


# ----------------------------------------------------------------------------- inputs


def bench_image() -> tuple[bytes, str]:
    """The detection benchmark's 1080p one-face photo when it has been built, else a 1024 px astronaut."""
    photo = CACHE / "photo-one-face.jpg"
    if photo.is_file():
        return photo.read_bytes(), f"{photo.relative_to(ROOT)} (bench/detect.py's 1080p photo, one face)"
    import cv2
    from PIL import Image
    from skimage import data

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "scan-api-astronaut-1024.jpg"
    if not path.is_file():
        rgb = cv2.resize(data.astronaut(), (1024, 1024), interpolation=cv2.INTER_CUBIC)
        Image.fromarray(rgb).save(path, "JPEG", quality=90)
    return path.read_bytes(), f"{path.relative_to(ROOT)} (scikit-image astronaut at 1024 px, one face)"


def bench_weights(tmp: Path) -> tuple[Path, str]:
    configured = os.environ.get("DETECTOR_WEIGHTS", "").split(",")[0].strip()
    path = Path(configured) if configured else DEFAULT_WEIGHTS
    if path.is_file() and path.with_suffix(".json").is_file():
        return path, f"{path.name}"
    import torch

    from detection.model import FakeMENet, ModelCard, save_detector

    torch.manual_seed(0)
    random_path = save_detector(
        FakeMENet(), ModelCard(version="bench-random"), tmp / "bench-random.safetensors"
    )
    return random_path, f"random init ({DEFAULT_WEIGHTS.name} absent; the timing is the same)"


def machine_info() -> dict[str, Any]:
    import torch

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    match = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)),
        "ram_gib": int(match.group(1)) / 1024**2 if match else 0.0,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "loadavg": os.getloadavg(),
    }


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


# ----------------------------------------------------------------------------- services


def ensure_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    conn = psycopg2.connect(admin, connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()


def ensure_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url, socket_timeout=5).ping()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@contextmanager
def gunicorn(env: dict[str, str], port: int, workers: int, log: Path) -> Iterator[subprocess.Popen]:
    import requests

    command = [sys.executable, "-m", "gunicorn", "-c", "python:moderation.gunicorn_conf",
               "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "moderation.wsgi"]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn not ready in 300 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ----------------------------------------------------------------------------- measurements


@dataclass
class LoadResult:
    latencies_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies_s) / self.wall_s if self.wall_s else 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def load(url: str, key: str, image: bytes, total: int, clients: int) -> LoadResult:
    """``total`` scans from ``clients`` threads, each with its own keep-alive session."""
    import requests

    result = LoadResult()
    lock = threading.Lock()
    remaining = iter(range(total))
    start_gate = threading.Barrier(clients)

    def client() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        start_gate.wait()
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            t0 = time.perf_counter()
            try:
                response = session.post(
                    url,
                    files={"media": ("photo.jpg", image, "image/jpeg")},
                    data={"hashtags": "#bench"},
                    timeout=120,
                )
                ok = response.status_code == 200 and response.json().get("status") == "completed"
                error = "" if ok else f"HTTP {response.status_code}: {response.text[:200]}"
            except requests.RequestException as exc:
                error = f"{type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - t0
            with lock:
                (result.errors.append(error) if error else result.latencies_s.append(elapsed))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall_s = time.perf_counter() - t0
    return result


def engine_sequential(
    weights: Path, image: bytes, runs: int, warmup: int, threads: int | None
) -> dict[str, Any]:
    """Detector.analyze_image in this process, one call after another (``threads`` None: torch's default)."""
    import torch

    from detection.engine import Detector

    default_threads = torch.get_num_threads()
    detector = Detector([weights], threads=threads or default_threads)
    for _ in range(warmup):
        detector.analyze_image(image)
    times = []
    t0 = time.perf_counter()
    for _ in range(runs):
        t = time.perf_counter()
        detector.analyze_image(image)
        times.append(time.perf_counter() - t)
    wall = time.perf_counter() - t0
    measured = {
        "rps": runs / wall,
        "p50_ms": statistics.median(times) * 1000,
        "p95_ms": percentile(times, 95) * 1000,
        "threads": torch.get_num_threads(),
        "runs": runs,
    }
    torch.set_num_threads(default_threads)
    return measured


# ----------------------------------------------------------------------------- report


def build_report(ctx: dict[str, Any]) -> str:
    m, svc, eng = ctx["machine"], ctx["service"], ctx["engine"]
    ratio = svc["rps"] / eng["rps"] if eng["rps"] else 0.0
    verdict = "meets" if ratio >= TARGET_RATIO and not svc["errors"] else "MISSES"
    lines = [
        "## Scan API: service vs engine (`bench/scan_api.py`)",
        "",
        f"- Command: `{ctx['command']}`",
        f"- Date: {ctx['date']}",
        f"- Machine: {m['cpu']}, {m['cores']} usable cores, {m['ram_gib']:.1f} GiB, Python {m['python']}, "
        f"torch {m['torch']}; load average at start {m['loadavg'][0]:.2f}",
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


def write_section(out: Path, body: str) -> None:
    """Replace this benchmark's marked section in ``out`` (create the file, or append the section)."""
    docs_section.write_section(out, body, MARK_START, MARK_END)


# ----------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
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

    machine = machine_info()
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
    command = "python bench/scan_api.py" + (" " + shlex.join(argv if argv is not None else sys.argv[1:]))
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
    print(report)
    if not args.no_write:
        write_section(args.out, report)
        print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    ratio = service["rps"] / engine["rps"] if engine["rps"] else 0.0
    return 0 if not result.errors and (args.quick or ratio >= TARGET_RATIO) else 1


if __name__ == "__main__":
    raise SystemExit(main())
