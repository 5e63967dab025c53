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

import glob
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WEIGHTS = ROOT / "detection" / "weights" / "fakeme-effnetv2s.safetensors"
START_TIMEOUT_S = 300.0


class StackError(RuntimeError):
    pass


def find_binary(name: str) -> str | None:
    """``name`` on PATH, else in the newest /usr/lib/postgresql/*/bin (Debian keeps initdb there)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version_key)
    return candidates[-1] if candidates else None


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parents[1].name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def missing_binaries() -> list[str]:
    return [name for name in ("initdb", "pg_ctl", "redis-server") if find_binary(name) is None]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Any, timeout_s: float, what: str, interval_s: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise StackError(f"{what}: not within {timeout_s:.0f} s")
        time.sleep(interval_s)


# ----------------------------------------------------------------------------- PostgreSQL


class Postgres:
    """A throwaway cluster: ``initdb`` into ``root/data``, served on 127.0.0.1:``port``."""

    def __init__(self, root: Path, port: int, *, durable: bool = True) -> None:
        self.root, self.port, self.durable = root, port, durable
        self.data = root / "data"
        self.log = root / "postgres.log"
        self._as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/fakeme"

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        done = subprocess.run([*prefix, *command], capture_output=True, text=True, check=False)
        if done.returncode:
            raise StackError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        initdb = find_binary("initdb")
        assert initdb is not None
        self._run(initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=100"
        if not self.durable:  # the drills' database: speed over crash safety
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        pg_ctl = find_binary("pg_ctl")
        assert pg_ctl is not None
        self._run(pg_ctl, "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        pg_ctl = find_binary("pg_ctl")
        assert pg_ctl is not None
        self._run(pg_ctl, "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def create_database(self) -> None:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
        try:
            with conn.cursor() as cursor:
                cursor.execute("CREATE DATABASE fakeme")
        finally:
            conn.close()

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one statement on the fakeme database (a fresh connection each time)."""
        import psycopg2

        conn = psycopg2.connect(self.url, connect_timeout=5)
        try:
            with conn, conn.cursor() as cursor:
                cursor.execute(sql, list(params))
                return list(cursor.fetchall()) if cursor.description else []
        finally:
            conn.close()


# ----------------------------------------------------------------------------- Redis


class Redis:
    """``redis-server`` on 127.0.0.1:``port``, no RDB snapshots, no AOF: a restart loses every key."""

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        server = find_binary("redis-server")
        assert server is not None
        command = [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", str(self.root),
                   "--logfile", str(self.root / "redis.log")]  # fmt: skip
        self.process = subprocess.Popen(command, start_new_session=True)
        wait_until(self.ping, 30, f"redis-server on port {self.port}")

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
        self.process = None


# ----------------------------------------------------------------------------- processes


@dataclass
class Service:
    """One started process (its own process group, so its children go with it)."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def children(self) -> list[int]:
        return children_of(self.pid)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 30.0) -> None:
        if not self.alive():
            return
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(10)


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(child) for child in path.read_text().split()]
    except OSError:
        return []


def rss_bytes(pid: int) -> int | None:
    """Resident memory of one process (VmRSS), None once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


# ----------------------------------------------------------------------------- the stack


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
            "from moderation.services.platforms import api_key_create, platform_create\n"
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
