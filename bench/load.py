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

    python bench/load.py                                  # 3 platforms x 4 clients x 60 s, docs/benchmarks.md
    python bench/load.py --platforms 1 --clients 2 --duration 20 --warmup 5 --no-write   # a smoke run
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform as platform_module
import random
import re
import shlex
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from bench import docs_section  # noqa: E402
from bench.stack import DEFAULT_WEIGHTS, Stack, missing_binaries, rss_bytes  # noqa: E402

DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
FACES = ROOT.parent / "shared" / "data" / "faces-real" / "ffhq-512"
MARK_START = "<!-- bench:load start -->"
MARK_END = "<!-- bench:load end -->"
MIX = {"scan_image": 0.55, "scan_get": 0.25, "report": 0.10, "scan_video": 0.10}
EXPECTED_STATUS = {"scan_image": 200, "scan_get": 200, "report": 201, "scan_video": 202}
MEMORY_GROWTH_TARGET = 0.10
SAMPLE_EVERY_S = 2.0
DRAIN_TIMEOUT_S = 180.0


# ----------------------------------------------------------------------------- inputs


def face_images(count: int) -> tuple[list[bytes], str]:
    """FFHQ photos from ../shared/data (512 px, one face each), else crops of scikit-image's astronaut."""
    if FACES.is_dir():
        paths = sorted(FACES.glob("*.jpg"))[:count]
        if paths:
            return [p.read_bytes() for p in paths], f"{len(paths)} FFHQ photos, 512 px (../shared/data)"
    import cv2
    from skimage import data

    rgb = data.astronaut()
    images = []
    for i in range(count):
        crop = rgb[i % 40 : 400 + i % 40, 60 + i % 50 : 460 + i % 50]
        ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert ok
        images.append(jpeg.tobytes())
    return images, f"{count} crops of scikit-image's astronaut, 400 px"


def face_video(path: Path) -> bytes:
    """6 s at 4 fps, 320x240, mp4v: the astronaut's head sliding across (12 frames sampled at 2 fps)."""
    import cv2
    import numpy as np
    from skimage import data

    head = cv2.resize(data.astronaut()[0:300, 100:400], (120, 120), interpolation=cv2.INTER_AREA)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 4.0, (320, 240))
    for i in range(24):
        frame = np.full((240, 320, 3), 90, np.uint8)
        x = 20 + i * 7
        frame[60:180, x : x + 120] = head
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path.read_bytes()


def machine_info() -> dict[str, Any]:
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
        "python": platform_module.python_version(),
    }


def cpu_busy_share(seconds: float = 2.0) -> float:
    """Share of all CPUs busy over a short window (/proc/stat), before the stack starts."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = values[3] + values[4]
        return sum(values) - idle, sum(values)

    busy0, total0 = sample()
    time.sleep(seconds)
    busy1, total1 = sample()
    return (busy1 - busy0) / max(total1 - total0, 1)


# ----------------------------------------------------------------------------- load


@dataclass
class Sample:
    kind: str
    at: float  # seconds since the load started
    seconds: float
    error: str = ""


@dataclass
class Shared:
    images: list[bytes]
    video: bytes
    base_url: str
    started: float = 0.0
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    samples: list[Sample] = field(default_factory=list)
    queued: set[str] = field(default_factory=set)  # scans the workers must complete


def client(shared: Shared, key: str, seed: int) -> None:
    import requests

    rng = random.Random(seed)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    scans = "/api/v1/scans"
    mine: list[tuple[str, str]] = []  # (scan id, post id) of this client's completed image scans
    kinds, weights = list(MIX), list(MIX.values())
    while not shared.stop.is_set():
        kind = rng.choices(kinds, weights)[0]
        if kind in ("scan_get", "report") and not mine:
            kind = "scan_image"
        post = f"post-{uuid.uuid4().hex[:12]}"
        t0 = time.perf_counter()
        error, body = "", {}
        try:
            if kind == "scan_image":
                media = {"media": ("photo.jpg", rng.choice(shared.images), "image/jpeg")}
                form = {"external_id": post, "author_id": "u1"}
                response = session.post(shared.base_url + scans, data=form, files=media, timeout=120)
            elif kind == "scan_video":
                media = {"media": ("clip.mp4", shared.video, "video/mp4")}
                form = {"external_id": post}
                response = session.post(shared.base_url + scans, data=form, files=media, timeout=120)
            elif kind == "scan_get":
                response = session.get(f"{shared.base_url}{scans}/{rng.choice(mine)[0]}", timeout=120)
            else:
                scan_id, post = rng.choice(mine)
                payload = {"external_id": post, "reporter_id": f"r-{uuid.uuid4().hex[:10]}",
                           "category": "unlabelled_deepfake", "scan_id": scan_id}  # fmt: skip
                response = session.post(shared.base_url + "/api/v1/reports", json=payload, timeout=120)
            if response.status_code != EXPECTED_STATUS[kind]:
                error = f"HTTP {response.status_code}: {response.text[:200]}"
            else:
                body = response.json()
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        elapsed = time.perf_counter() - t0
        with shared.lock:
            shared.samples.append(Sample(kind, t0 - shared.started, elapsed, error))
            if not error and kind == "scan_video":
                shared.queued.add(body["id"])
            elif not error and kind == "report" and body.get("scan_id"):
                shared.queued.add(body["scan_id"])
        if not error and kind == "scan_image":
            mine.append((body["id"], post))


@dataclass
class MemorySampler:
    stack: Stack
    started: float
    series: dict[str, list[tuple[float, int]]] = field(default_factory=lambda: defaultdict(list))
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.wait(SAMPLE_EVERY_S):
            now = time.perf_counter() - self.started
            for role, pid in self.stack.process_roles().items():
                rss = rss_bytes(pid)
                if rss is not None:
                    self.series[f"{role} (pid {pid})"].append((now, rss))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def drain(stack: Stack, queued: set[str]) -> tuple[dict[str, int], float]:
    """Wait for every queued scan to finish; (count per status, seconds waited)."""
    t0 = time.perf_counter()
    ids = sorted(queued)
    statuses: dict[str, int] = {}
    while ids:
        rows = stack.postgres.query("SELECT status, count(*) FROM moderation_scan WHERE id::text = ANY(%s) "
                                    "GROUP BY status", [ids])  # fmt: skip
        statuses = {status: count for status, count in rows}
        if set(statuses) <= {"completed", "failed"} or time.perf_counter() - t0 > DRAIN_TIMEOUT_S:
            break
        time.sleep(1.0)
    return statuses, time.perf_counter() - t0


# ----------------------------------------------------------------------------- report


def mb(value: float) -> str:
    return f"{value / 2**20:.0f} MiB"


def build_report(ctx: dict[str, Any]) -> str:
    m = ctx["machine"]
    lines = [
        "## Load: platforms x clients against the whole service (`bench/load.py`)",
        "",
        f"- Command: `{ctx['command']}`",
        f"- Date: {ctx['date']}",
        f"- Machine: {m['cpu']}, {m['cores']} usable cores, {m['ram_gib']:.1f} GiB, Python {m['python']}; "
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


# ----------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
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
        raise SystemExit(f"bench/load.py needs {', '.join(missing)} (PostgreSQL and Redis server binaries)")
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
    command = f"{nice}python bench/load.py " + " ".join(a if a == "…" else shlex.quote(a) for a in shown)
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
    print(report)
    if not args.no_write:
        docs_section.write_section(args.out, report, MARK_START, MARK_END)
        print(f"wrote {args.out}")
    all_done = drained.get("completed", 0) == len(shared.queued)
    return 0 if not errors and all_done and memory_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
