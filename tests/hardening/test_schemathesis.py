"""Property-based API testing from the OpenAPI schema (schemathesis) against a real server: no 5xx.

A gunicorn worker (DEBUG off, production middleware) is started here on a free loopback port with its
own SQLite database and media folder, and a platform key from ``manage.py create_platform``. Every
operation of ``/api/schema/`` gets ``EXAMPLES`` generated requests (valid and invalid bodies, query
strings, path parameters, multipart files of random bytes), derandomized so a CI run is repeatable.
Media URLs the generator happens to make fetchable are pointed at a refused loopback address: the
server never reaches out to a host on the network.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
# Per operation and mode (valid, invalid): ~550 requests, about 30 s on two cores. A deeper one-off run:
# SCHEMATHESIS_EXAMPLES=200 pytest tests/hardening/test_schemathesis.py
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "15"))
REFUSED_URL = "http://127.0.0.1:9/x.jpg"  # loopback: refused by the SSRF guard before any connection


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, API key) of a gunicorn worker serving a fresh database."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DATABASE_", "REDIS_", "CELERY_", "CACHE_"))
        },
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "WATERMARK_KEY": secrets.token_urlsafe(32),
        "SECURE_SSL_REDIRECT": "False",  # plain HTTP on loopback
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp / "media"),
        "API_RATE_LIMIT": "1000000/min",
        "REPORTER_RATE_LIMIT": "1000000/hour",
        "GENERATION_PLATFORM_RATE_LIMIT": "1000000/hour",
        "GENERATION_USER_RATE_LIMIT": "1000000/hour",
        "SCAN_FETCH_TIMEOUT_S": "2",
        "SCAN_FETCH_DEADLINE_S": "3",
        "DETECTOR_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "WEB_CONCURRENCY": "1",
        "LOG_LEVEL": "WARNING",
    }
    _manage(env, "migrate", "--noinput")
    key = json.loads(_manage(env, "create_platform", "schemathesis", "--json"))["api_key"]
    port = _free_port()
    log = tmp / "gunicorn.log"
    # One worker, never recycled (gunicorn_conf's max_requests): a restart mid-run would refuse requests.
    command = [sys.executable, "-m", "gunicorn", "-c", "python:moderation.gunicorn_conf",
               "--bind", f"127.0.0.1:{port}", "--max-requests", "0", "moderation.wsgi"]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, f"gunicorn exited:\n{log.read_text()[-3000:]}"
            try:
                if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, f"gunicorn not ready:\n{log.read_text()[-3000:]}"
            time.sleep(0.5)
        yield url, key
        errors = [line for line in log.read_text().splitlines() if "Internal Server Error" in line]
        assert not errors, "\n".join(errors[:20])
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def api_schema(server: tuple[str, str]) -> Any:
    url, key = server
    loaded = schemathesis.openapi.from_url(f"{url}/api/schema/?format=json")
    loaded.config.update(base_url=url, headers={"Authorization": f"Bearer {key}"}, request_timeout=30)
    return loaded


def _no_outbound_urls(value: Any) -> Any:
    """Generated media URLs that would pass syntax checks (and so be fetched) point at loopback."""
    if isinstance(value, list):
        return [_no_outbound_urls(v) for v in value]
    if isinstance(value, str):
        try:
            parts = urlsplit(value.strip())
            fetchable = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:
            fetchable = False
        return REFUSED_URL if fetchable else value
    return value


def _call(case: Any, statuses: Counter[int]) -> None:
    if isinstance(case.body, dict):
        for name in ("media_url", "media_urls"):
            if name in case.body:
                case.body[name] = _no_outbound_urls(case.body[name])
    response = case.call_and_validate(checks=[not_a_server_error])
    statuses[response.status_code] += 1


# schemathesis's own pytest plugin (``@schema.parametrize()``) does not run under pytest 9 (it sets the
# private ``Function._nodeid``), so each operation gets its own Hypothesis test here, and a failing
# operation is named in the assertion with its smallest failing request.
@pytest.mark.timeout(600)
def test_no_server_errors(api_schema: Any) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20, [f"{op.method.upper()} {op.path}" for op in operations]
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate, Phase.shrink],
            )
            def run(case: Any) -> None:
                _call(case, statuses)

            try:
                run()
            except Unsatisfiable:
                pass  # no parameters to get wrong: an operation without inputs has no negative cases
            except Exception as exc:  # noqa: BLE001  (any failure: report it with the operation's name)
                causes = getattr(exc, "exceptions", ())  # Hypothesis groups several, or a flaky one
                detail = "".join(f"\n  - {type(c).__name__}: {c}" for c in causes)
                failures.append(f"{operation.method.upper()} {operation.path} [{mode.value}]: {exc}{detail}")
    assert not failures, "\n\n".join(failures)
    # The requests reached the views: successes and refusals of every kind, not only 401s or 404s.
    print(f"schemathesis: {sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}")
    assert sum(statuses.values()) >= 10 * len(operations)
    assert {200, 400, 404} <= set(statuses), statuses
