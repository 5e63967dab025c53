"""A production-style FakeME on loopback, started from nothing: for ``bench/load.py`` and the fault drills.

Everything is private to the caller and thrown away at the end: a PostgreSQL cluster (``initdb`` into a
temporary directory, its own port), a Redis server (its own port, no persistence), gunicorn with
``moderation.gunicorn_conf`` (DEBUG off), Celery prefork workers on the inference and default queues,
and celery beat when asked. The machine's shared PostgreSQL (5432) and Redis (6379) are never touched.
The drills stop, kill and restart these services; ``Stack.close()`` ends every process it started, by
process group, and nothing else.

As root, PostgreSQL runs as the ``postgres`` OS user (``initdb`` refuses root) through ``runuser``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.stack_process import (
    Service,
    StackError,
    children_of,
    find_binary,
    free_port,
    missing_binaries,
    rss_bytes,
    wait_until,
)
from bench.stack_stores import Postgres, Redis

# Its parts: ``stack_process`` (binaries, ports, waiting, one service's processes) and ``stack_stores``
# (PostgreSQL and Redis); their names are importable from here, as before the split.
__all__ = [
    "DEFAULT_WEIGHTS",
    "START_TIMEOUT_S",
    "Postgres",
    "Redis",
    "Service",
    "Stack",
    "StackError",
    "children_of",
    "find_binary",
    "free_port",
    "missing_binaries",
    "rss_bytes",
    "wait_until",
]

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WEIGHTS = ROOT / "detection" / "weights" / "fakeme-effnetv2s.safetensors"
START_TIMEOUT_S = 300.0


@dataclass
class Stack:
    """The whole service. ``start()`` brings up PostgreSQL, Redis, migrates, then ``start_web`` etc."""

    root: Path
    weights: Path = DEFAULT_WEIGHTS
    media_root: Path | None = None
    durable_db: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)
    postgres: Postgres = field(init=False)
    redis: Redis = field(init=False)
    web: Service | None = field(init=False, default=None)
    workers: dict[str, Service] = field(init=False, default_factory=dict)
    beat: Service | None = field(init=False, default=None)
    web_port: int = field(init=False, default=0)
    _web_workers: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        # The cluster lives outside ``root``: the postgres user must reach it, and pytest's
        # temporary folders are private to root.
        self._pg_root = Path(tempfile.mkdtemp(prefix="fakeme-pg-"))
        self.postgres = Postgres(self._pg_root, free_port(), durable=self.durable_db)
        self.redis = Redis(self.root / "redis", free_port())
        self.media_root = self.media_root or self.root / "media"
        self._secret_key = secrets.token_urlsafe(32)
        self._watermark_key = secrets.token_urlsafe(32)

    # -- environment -------------------------------------------------------------------
    @property
    def env(self) -> dict[str, str]:
        drop = ("DATABASE_URL", "REDIS_URL", "CACHE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND",
                "CELERY_DEFAULT_QUEUE", "CELERY_INFERENCE_QUEUE", "MEDIA_ROOT")  # fmt: skip
        base = {k: v for k, v in os.environ.items() if k not in drop}
        return {
            **base,
            "DJANGO_SETTINGS_MODULE": "moderation.settings",
            "DEBUG": "False",
            "SECURE_SSL_REDIRECT": "False",  # plain HTTP on loopback, no TLS proxy in front
            "SECRET_KEY": self._secret_key,
            "WATERMARK_KEY": self._watermark_key,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": self.postgres.url,
            "REDIS_URL": f"{self.redis.url}/1",
            "CACHE_URL": f"{self.redis.url}/1",
            "CELERY_BROKER_URL": f"{self.redis.url}/0",
            "MEDIA_ROOT": str(self.media_root),
            "DETECTOR_WEIGHTS": str(self.weights),
            "DETECTOR_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    # -- services ----------------------------------------------------------------------
    def start(self) -> None:
        """PostgreSQL (an empty ``fakeme`` database) and Redis up; then ``setup`` migrates it."""
        self.postgres.init()
        self.postgres.start()
        self.postgres.create_database()
        self.redis.start()

    def manage(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, input=stdin,
                              capture_output=True, text=True, check=False)  # fmt: skip
        if done.returncode:
            raise StackError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def setup(self, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Migrate, then create platforms with an API key each, in one Django start:
        ``[{"name", **Platform fields}]`` -> ``[{"name", "id", "key", "webhook_secret"}]``.

        The web server and the workers may start meanwhile: they need the tables only for requests."""
        script = (
            "import json, sys\n"
            "from django.core.management import call_command\n"
            "from moderation.core.platforms import api_key_create, platform_create\n"
            "call_command('migrate', interactive=False, verbosity=0, skip_checks=True)\n"
            "out = []\n"
            "for spec in json.loads(sys.stdin.read()):\n"
            "    p = platform_create(**spec)\n"
            "    _, raw = api_key_create(platform=p, name='stack')\n"
            "    out.append({'name': p.name, 'id': str(p.pk), 'key': raw,\n"
            "                'webhook_secret': p.webhook_secret})\n"
            "print('PLATFORMS=' + json.dumps(out))\n"
        )
        output = self.manage("shell", "-c", script, stdin=json.dumps(specs))
        line = next(x for x in output.splitlines() if x.startswith("PLATFORMS="))
        return json.loads(line.removeprefix("PLATFORMS="))

    def _spawn(self, name: str, command: list[str]) -> Service:
        log = self.root / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)  # fmt: skip
        return Service(name, process, log)

    def start_web(self, workers: int = 2, *, wait: bool = True) -> Service:
        self.web_port = self.web_port or free_port()
        command = [sys.executable, "-m", "gunicorn", "-c", "python:moderation.gunicorn_conf",
                   "--bind", f"127.0.0.1:{self.web_port}", "--workers", str(workers),
                   "moderation.wsgi"]  # fmt: skip
        self.web = self._spawn("gunicorn", command)
        self._web_workers = workers
        if wait:
            self.wait_web()
        return self.web

    def wait_web(self) -> None:
        import requests

        web = self.web
        assert web is not None

        def ready() -> bool:
            if not web.alive():
                raise StackError(f"gunicorn exited:\n{web.log_text()[-3000:]}")
            try:
                return requests.get(f"{self.base_url}/readyz", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        # Every worker loads the model before it serves; /readyz answers once one of them has.
        wait_until(ready, START_TIMEOUT_S, "gunicorn /readyz", 0.5)
        wait_until(lambda: len(web.children()) >= self._web_workers, 60, "gunicorn workers")

    def start_worker(self, name: str, *, wait: bool = True) -> Service:
        """``celery worker --pool=prefork -c 1 -Q inference,celery``: a parent, one child that runs tasks."""
        command = [sys.executable, "-m", "celery", "-A", "moderation", "worker", "--pool=prefork", "-c", "1",
                   "-Q", "inference,celery", "-n", f"{name}@%h", "--loglevel=INFO",
                   "--without-mingle", "--without-gossip"]  # fmt: skip
        service = self._spawn(name, command)
        self.workers[name] = service
        if wait:
            self.wait_worker(service)
        return service

    def wait_worker(self, service: Service) -> None:
        def ready() -> bool:
            text = service.log_text()
            if not service.alive():
                raise StackError(f"{service.name} exited:\n{text[-3000:]}")
            return " ready." in text and "detector loaded" in text

        wait_until(ready, START_TIMEOUT_S, f"celery worker {service.name}", 0.3)

    def start_beat(self) -> Service:
        command = [sys.executable, "-m", "celery", "-A", "moderation", "beat", "--loglevel=INFO",
                   "-s", str(self.root / "beat-schedule")]  # fmt: skip
        self.beat = self._spawn("beat", command)
        return self.beat

    def services(self) -> list[Service]:
        return [s for s in (self.web, *self.workers.values(), self.beat) if s is not None]

    def process_roles(self) -> dict[str, int]:
        """``{"gunicorn worker 1": pid, "celery w1 child": pid, ...}`` for memory sampling."""
        roles: dict[str, int] = {}
        if self.web is not None:
            roles["gunicorn master"] = self.web.pid
            for i, pid in enumerate(sorted(self.web.children()), 1):
                roles[f"gunicorn worker {i}"] = pid
        for name, worker in self.workers.items():
            roles[f"celery {name} parent"] = worker.pid
            for i, pid in enumerate(sorted(worker.children()), 1):
                roles[f"celery {name} child" + (f" {i}" if i > 1 else "")] = pid
        return roles

    def close(self) -> None:
        """End every process started here: SIGTERM to all at once, SIGKILL to what is left after 2 s."""
        services = [s for s in self.services() if s.alive()]
        for service in services:
            try:
                os.killpg(service.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 2
        for service in services:
            try:
                service.process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                service.stop(signal.SIGKILL, timeout_s=10)
        self.redis.stop()
        if self.postgres.running():
            try:
                self.postgres.stop("immediate")
            except StackError:
                pass
        shutil.rmtree(self._pg_root, ignore_errors=True)

    def logs_tail(self, chars: int = 2500) -> str:
        parts = [f"--- {s.name} ---\n{s.log_text()[-chars:]}" for s in self.services()]
        if self.postgres.log.exists():
            parts.append(f"--- postgres ---\n{self.postgres.log.read_text(errors='replace')[-chars:]}")
        return "\n".join(parts)
