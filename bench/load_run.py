"""The load benchmark's run: the clients (each one platform's key, looping over the weighted mix of
requests), the memory sampler of the service's processes, and the wait for queued scans to finish."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from bench.stack import Stack, rss_bytes

MIX = {"scan_image": 0.55, "scan_get": 0.25, "report": 0.10, "scan_video": 0.10}
EXPECTED_STATUS = {"scan_image": 200, "scan_get": 200, "report": 201, "scan_video": 202}
SAMPLE_EVERY_S = 2.0
DRAIN_TIMEOUT_S = 180.0


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
