"""Fault drills: the production-style stack on loopback, broken on purpose, with the outcome asserted.

One stack for the module (``bench/stack.py``): its own PostgreSQL cluster and Redis server on free
ports (never the machine's shared 5432/6379), gunicorn with ``moderation.gunicorn_conf`` and DEBUG
off, two Celery prefork workers on the inference and default queues, celery beat, and a webhook
receiver in this process. Media go to a 16 MiB tmpfs mounted for the drills (a real full disk).
Every request is real HTTP; rows are read straight from the drill's PostgreSQL.

The drills shorten two production timings so that they finish in seconds: webhook retries back off
from 1 s (production: 10 s) and stranded work is sent again after 3 s (production: 300 s).

Needs ``initdb``, ``pg_ctl`` and ``redis-server`` (skipped without them; under ``FAKEME_CI`` that
fails instead), and root to mount the tmpfs (the disk-full drill alone is skipped otherwise).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from bench.stack import DEFAULT_WEIGHTS, Stack, StackError, missing_binaries
from tests.detection.fakeme_media import encode, make_random_weights, moving_face_frame, write_video
from tests.support.scans import verify_standard_webhook

REPO_ROOT = Path(__file__).resolve().parents[2]

CI = bool(os.environ.get("FAKEME_CI"))
MEDIA_VOLUME = "16m"
REQUEUE_AFTER_S = 3
WEBHOOK_BACKOFF_BASE_S = 1.0
SCAN_TIMEOUT_S = 120


def _require(condition: bool, reason: str) -> None:
    """Skip when a prerequisite is missing; on the CI machine, where it must be present, fail."""
    if not condition:
        (pytest.fail if CI else pytest.skip)(reason)


def wait_for(predicate: Callable[[], Any], timeout_s: float, what: str, interval_s: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s:.0f} s"
        time.sleep(interval_s)


# ----------------------------------------------------------------------------- webhook receiver


@dataclass
class Hook:
    webhook_id: str
    event: dict[str, Any]
    answered: int
    signed: bool


@dataclass
class Receiver:
    """A platform's webhook endpoint that can be taken down, made to fail, and brought back."""

    port: int = 0
    secret: str = ""
    fail_next: int = 0  # answer 503 to this many requests before answering 200
    hooks: list[Hook] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/fakeme"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    status = 503 if receiver.fail_next > 0 else 200
                    receiver.fail_next -= status == 503
                    receiver.hooks.append(
                        Hook(
                            headers.get("webhook-id", ""),
                            json.loads(body),
                            status,
                            verify_standard_webhook(receiver.secret, headers, body),
                        )
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        """Down: the port refuses connections."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def for_scan(self, scan_id: str) -> list[Hook]:
        with self._lock:
            return [h for h in self.hooks if h.event.get("data", {}).get("id") == scan_id]


# ----------------------------------------------------------------------------- the stack


@dataclass
class Drill:
    stack: Stack
    receiver: Receiver
    key: str
    media_root: Path
    tmpfs: bool
    video: bytes
    image: bytes

    def session(self) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.key}"
        return session

    def url(self, path: str) -> str:
        return self.stack.base_url + path

    def post_video(self, session: requests.Session | None = None) -> requests.Response:
        return (session or self.session()).post(
            self.url("/api/v1/scans"), files={"media": ("clip.mp4", self.video, "video/mp4")}, timeout=30
        )

    def post_image(self, *, queued: bool = False) -> requests.Response:
        path = "/api/v1/scans" + ("?async=1" if queued else "")
        return self.session().post(
            self.url(path), files={"media": ("face.jpg", self.image, "image/jpeg")}, timeout=120
        )

    def scan(self, scan_id: str) -> dict[str, Any]:
        response = self.session().get(self.url(f"/api/v1/scans/{scan_id}"), timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def wait_finished(self, scan_id: str, timeout_s: float = SCAN_TIMEOUT_S) -> dict[str, Any]:
        try:
            return wait_for(
                lambda: (s := self.scan(scan_id))["status"] in ("completed", "failed") and s,
                timeout_s,
                f"scan {scan_id} finished",
                0.3,
            )
        except AssertionError:
            print(self.stack.logs_tail())
            raise

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self.stack.postgres.query(sql, params)

    def deliveries(self, scan_id: str) -> list[tuple[Any, ...]]:
        """``(webhook_id, event_type, status, attempt_count)`` of the scan's webhook deliveries."""
        return self.rows(
            "SELECT webhook_id, event_type, status, attempt_count FROM moderation_webhookdelivery "
            "WHERE scan_id = %s",
            scan_id,
        )

    def wait_delivered(self, scan_id: str, timeout_s: float = 60) -> None:
        wait_for(
            lambda: [d[2] for d in self.deliveries(scan_id)] == ["succeeded"],
            timeout_s,
            f"scan {scan_id}: one webhook delivered",
            0.3,
        )

    def worker_running(self, scan_id: str) -> str:
        """The name of the Celery worker whose log says it started the scan."""
        marker = f"scan {scan_id} started"
        return wait_for(
            lambda: next((n for n, w in self.stack.workers.items() if marker in w.log_text()), None),
            SCAN_TIMEOUT_S,
            f"a worker starts scan {scan_id}",
        )


def _mount_tmpfs(path: Path) -> bool:
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={MEDIA_VOLUME}", "tmpfs", str(path)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    return done.returncode == 0


def _face_video(path: Path) -> bytes:
    """20 s at 4 fps, 320x240, the astronaut's head sliding across: 40 frames sampled at 2 fps."""
    import cv2
    from skimage import data

    head = cv2.resize(data.astronaut()[0:300, 100:400], (120, 120), interpolation=cv2.INTER_AREA)
    return write_video(path, lambda i: moving_face_frame(head, i, 80), 80, fps=4.0).read_bytes()


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drill]:
    missing = missing_binaries()
    _require(
        not missing, f"the fault drills need {', '.join(missing)} (PostgreSQL and Redis server binaries)"
    )
    root = tmp_path_factory.mktemp("fault-drills")
    weights = DEFAULT_WEIGHTS
    if not (weights.is_file() and weights.with_suffix(".json").is_file()):
        weights = make_random_weights(root / "random.safetensors")
    media_root = root / "media"
    media_root.mkdir()
    tmpfs = _mount_tmpfs(media_root)
    receiver = Receiver()
    receiver.start()
    stack = Stack(
        root / "stack",
        weights=weights,
        media_root=media_root,
        durable_db=False,
        extra_env={
            "REQUEUE_AFTER_S": str(REQUEUE_AFTER_S),
            "REQUEUE_INTERVAL_S": "1",
            "WEBHOOK_BACKOFF_BASE_S": str(WEBHOOK_BACKOFF_BASE_S),
            "WEBHOOK_TIMEOUT_S": "5",
        },
    )
    try:
        stack.start()
        # Everything that loads the model starts at once; the database is migrated meanwhile.
        stack.start_web(1, wait=False)
        for name in ("w1", "w2"):
            stack.start_worker(name, wait=False)
        stack.start_beat()
        (platform,) = stack.setup(
            [{"name": "drills", "webhook_url": receiver.url, "allowed_private_hosts": ["127.0.0.1"],
              "rate_limit": "100000/min"}]
        )  # fmt: skip
        receiver.secret = platform["webhook_secret"]
        stack.wait_web()
        for worker in stack.workers.values():
            stack.wait_worker(worker)
        from skimage import data

        image = encode(np.ascontiguousarray(data.astronaut()), "JPEG", quality=90)
        yield Drill(
            stack, receiver, platform["key"], media_root, tmpfs, _face_video(root / "clip.mp4"), image
        )
    except StackError as exc:
        pytest.fail(f"the drill stack did not start: {exc}\n{stack.logs_tail()}")
    finally:
        stack.close()
        receiver.stop()
        if tmpfs:
            subprocess.run(["umount", "-l", str(media_root)], check=False)


# ----------------------------------------------------------------------------- e. disk full


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_disk_full_is_a_clear_error_and_leaves_nothing(drill: Drill) -> None:
    """The media volume (a real 16 MiB tmpfs) is full: 507 ``storage_full`` in the API's JSON, no scan
    row, no file (not even a partial one); once space is freed the same upload succeeds, no restart."""
    _require(drill.tmpfs, "mounting a tmpfs needs root (mount -t tmpfs): the disk-full drill cannot run")
    filler = drill.media_root / "filler.bin"
    with filler.open("wb") as out:  # fill the volume to the last byte
        try:
            while True:
                out.write(b"\0" * (1 << 20))
                out.flush()
        except OSError as exc:
            assert exc.errno == 28, exc  # ENOSPC
    try:
        before_files = _files(drill.media_root)
        before_rows = drill.rows("SELECT count(*) FROM moderation_scan")[0][0]
        for response in (drill.post_image(), drill.post_video()):
            assert response.status_code == 507, response.text
            assert response.headers["Content-Type"] == "application/json"
            assert response.json()["error"]["code"] == "storage_full"
        assert drill.rows("SELECT count(*) FROM moderation_scan")[0][0] == before_rows
        assert drill.rows("SELECT count(*) FROM moderation_scanmedia")[0][0] == 0
        assert _files(drill.media_root) == before_files  # no partial file left behind
    finally:
        filler.unlink()
    response = drill.post_image()
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed"


# ----------------------------------------------------------------------------- d. webhook receiver down


def test_webhook_receiver_down_gets_retried_deliveries_with_one_webhook_id(drill: Drill) -> None:
    """The platform's receiver refuses connections, then answers 503, then comes back: the delivery is
    retried with growing delays until a 2xx, every attempt is recorded, and every request the receiver
    saw for the event carried the same webhook-id and a valid signature."""
    drill.receiver.stop()
    response = drill.post_image(queued=True)
    assert response.status_code == 202, response.text
    scan_id = response.json()["id"]
    assert drill.wait_finished(scan_id)["status"] == "completed"
    # Two attempts meet a closed port, then the receiver is up but failing once more.
    wait_for(
        lambda: (
            drill.rows(
                "SELECT count(*) FROM moderation_webhookattempt a JOIN moderation_webhookdelivery d "
                "ON a.delivery_id = d.id WHERE d.scan_id = %s",
                scan_id,
            )[0][0]
            >= 2
        ),
        30,
        "two failed attempts",
    )
    drill.receiver.fail_next = 1
    drill.receiver.start()
    drill.wait_delivered(scan_id)

    attempts = drill.rows(
        "SELECT a.number, a.status_code, a.error, a.started_at FROM moderation_webhookattempt a "
        "JOIN moderation_webhookdelivery d ON a.delivery_id = d.id WHERE d.scan_id = %s ORDER BY a.number",
        scan_id,
    )
    assert len(attempts) >= 4, attempts
    assert attempts[0][1] is None and attempts[1][1] is None  # connection refused: no status
    assert attempts[-2][1] == 503 and attempts[-1][1] == 200
    assert [a[0] for a in attempts] == list(range(1, len(attempts) + 1))
    # Backoff: attempt n+1 waits at least ~BASE * 2**(n-1) after attempt n (10 % jitter allowed).
    for (number, *_, started), (*_, next_started) in zip(attempts, attempts[1:], strict=False):
        gap = (next_started - started).total_seconds()
        assert gap >= 0.85 * WEBHOOK_BACKOFF_BASE_S * 2 ** (number - 1), attempts

    hooks = drill.receiver.for_scan(scan_id)
    (webhook_id,) = {h.webhook_id for h in hooks}
    assert [h.answered for h in hooks][-2:] == [503, 200] and all(h.signed for h in hooks)
    assert [d[0] for d in drill.deliveries(scan_id)] == [webhook_id]


# ----------------------------------------------------------------------------- a. Redis down


def test_redis_stopped_and_restarted_during_a_video_scan_loses_nothing(drill: Drill) -> None:
    """Redis (broker and cache, no persistence: it comes back empty) stops while a worker runs a video
    scan. The running scan completes; a video sent during the outage is accepted (202, queued; no 500)
    and completes after the restart; each scan gets exactly one signed webhook. Nothing is lost."""
    running = drill.post_video()
    assert running.status_code == 202, running.text
    running_id = running.json()["id"]
    drill.worker_running(running_id)
    wait_for(lambda: drill.scan(running_id)["progress"]["frames_done"] > 0, SCAN_TIMEOUT_S, "frames done")

    drill.stack.redis.stop()
    try:
        assert drill.scan(running_id)["status"] == "processing"  # the outage really is mid-scan
        during = drill.post_video()
        assert during.status_code == 202, during.text
        during_id = during.json()["id"]
        assert during.json()["status"] == "queued"
        assert drill.scan(during_id)["status"] == "queued"
        readyz = requests.get(drill.url("/readyz"), timeout=30)
        assert readyz.status_code == 503 and readyz.json()["checks"]["broker"].startswith("error")
        time.sleep(2)
    finally:
        drill.stack.redis.start()

    for scan_id in (running_id, during_id):
        final = drill.wait_finished(scan_id)
        assert final["status"] == "completed", final["error"]
        assert final["progress"]["frames_done"] == final["progress"]["frames_total"] == 40
        drill.wait_delivered(scan_id)
        (delivery,) = drill.deliveries(scan_id)
        assert delivery[1] == "scan.completed"
        hooks = drill.receiver.for_scan(scan_id)
        assert {h.webhook_id for h in hooks} == {delivery[0]} and all(h.signed for h in hooks)
    assert drill.rows("SELECT count(*) FROM moderation_scanmedia WHERE scan_id IN (%s, %s)",
                      running_id, during_id)[0][0] == 2  # fmt: skip


# ----------------------------------------------------------------------------- b. worker SIGKILL


def test_worker_killed_mid_scan_is_redelivered_and_completes_once(drill: Drill) -> None:
    """SIGKILL the Celery worker process running a video scan: the task goes back to the queue
    (acks_late + reject_on_worker_lost), runs again and completes exactly once: one result per media,
    one scan.completed delivery, one webhook-id at the receiver."""
    response = drill.post_video()
    assert response.status_code == 202, response.text
    scan_id = response.json()["id"]
    name = drill.worker_running(scan_id)
    wait_for(lambda: drill.scan(scan_id)["progress"]["frames_done"] > 0, SCAN_TIMEOUT_S, "frames done")
    worker = drill.stack.workers[name]
    (child,) = worker.children()
    os.kill(child, signal.SIGKILL)

    final = drill.wait_finished(scan_id)
    assert final["status"] == "completed", final["error"]
    assert final["progress"]["frames_done"] == 40
    assert drill.rows("SELECT attempts FROM moderation_scan WHERE id = %s", scan_id) == [(2,)]
    assert drill.rows("SELECT count(*) FROM moderation_scanmedia WHERE scan_id = %s", scan_id) == [(1,)]
    drill.wait_delivered(scan_id)
    (delivery,) = drill.deliveries(scan_id)
    assert delivery[1] == "scan.completed"
    time.sleep(REQUEUE_AFTER_S + 1)  # time for any stray duplicate to show up
    hooks = drill.receiver.for_scan(scan_id)
    assert {h.webhook_id for h in hooks} == {delivery[0]} and len(drill.deliveries(scan_id)) == 1
    assert worker.alive() and worker.children() and child not in worker.children()  # a new child


# ----------------------------------------------------------------------------- c. PostgreSQL restart


@dataclass
class Outcome:
    kind: str
    status: int
    code: str
    content_type: str
    seconds: float
    at: float


def test_postgres_restart_under_load_fails_fast_with_503_and_recovers(drill: Drill) -> None:
    """PostgreSQL stops for a few seconds while clients keep calling: every API call then answers at
    once with 503 ``database_unavailable`` JSON (no hang, no 500 page), /readyz says 503; after the
    restart the same gunicorn workers serve again, and a video scan in flight completes."""
    first = drill.post_image()
    assert first.status_code == 200, first.text
    scan_id = first.json()["id"]
    web_pids = sorted(drill.stack.web.children()) if drill.stack.web else []
    in_flight = drill.post_video()
    assert in_flight.status_code == 202, in_flight.text
    in_flight_id = in_flight.json()["id"]
    drill.worker_running(in_flight_id)

    outcomes: list[Outcome] = []
    stop = threading.Event()
    started = time.monotonic()

    def client(kind: str) -> None:
        session = drill.session()
        while not stop.is_set():
            t0 = time.monotonic()
            try:
                if kind == "detail":
                    response = session.get(drill.url(f"/api/v1/scans/{scan_id}"), timeout=30)
                elif kind == "list":
                    response = session.get(drill.url("/api/v1/scans?page_size=5"), timeout=30)
                else:
                    response = session.get(drill.url("/readyz"), timeout=30)
                body = response.json() if "json" in response.headers.get("Content-Type", "") else {}
                code = (body.get("error") or {}).get("code", "") or body.get("checks", {}).get("database", "")
                content_type = response.headers.get("Content-Type", "")
                outcomes.append(
                    Outcome(
                        kind, response.status_code, code, content_type, time.monotonic() - t0, t0 - started
                    )
                )
            except requests.RequestException as exc:
                outcomes.append(Outcome(kind, 0, type(exc).__name__, "", time.monotonic() - t0, t0 - started))
            time.sleep(0.05)

    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(client, kind) for kind in ("detail", "list", "readyz")]
        time.sleep(1.0)
        in_flight_status = drill.scan(in_flight_id)["status"]
        drill.stack.postgres.stop("fast")
        down_at = time.monotonic() - started
        time.sleep(3.0)
        drill.stack.postgres.start()
        up_at = time.monotonic() - started
        back = wait_for(
            lambda: next(
                (o for o in outcomes if o.at > up_at and o.status == 200 and o.kind == "detail"), None
            ),
            30,
            "API back after the restart",
        )
        time.sleep(3.0)  # keep the load on: it must stay back
        stop.set()
        for future in futures:
            future.result()

    outage = [o for o in outcomes if down_at + 0.2 < o.at < up_at - 0.2]
    assert outage, "no request was sent during the outage"
    for o in outage:
        assert o.status == 503, o
        assert o.content_type == "application/json", o
        assert o.seconds < 5.0, o  # failed fast, did not hang
        if o.kind == "readyz":
            assert o.code.startswith("error"), o
        else:
            assert o.code == "database_unavailable", o
    assert not [o for o in outcomes if o.status not in (200, 503)], outcomes
    after = [o for o in outcomes if o.at > back.at + back.seconds]
    assert len(after) > 10 and all(o.status == 200 for o in after), after
    assert back.at - up_at < 10.0, back  # back within seconds of the database, by itself
    assert (sorted(drill.stack.web.children()) if drill.stack.web else []) == web_pids  # no restart

    # The worker's scan met the outage (its progress writes failed) unless it had finished already;
    # either way it completes, retried by the task (autoretry on database errors) without a restart.
    final = drill.wait_finished(in_flight_id)
    assert final["status"] == "completed", (in_flight_status, final["error"])
    attempts = drill.rows("SELECT attempts FROM moderation_scan WHERE id = %s", in_flight_id)[0][0]
    print(f"in-flight scan was {in_flight_status} at the stop; attempts {attempts}")
    slowest = max(o.seconds for o in outage)
    print(f"outage {up_at - down_at:.1f} s: {len(outage)} requests answered, slowest in {slowest:.3f} s")
