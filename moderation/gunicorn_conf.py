"""gunicorn settings: ``gunicorn -c python:moderation.gunicorn_conf moderation.wsgi``.

Sync workers, one request at a time each: inference is CPU-bound, so concurrency comes from
processes (``WEB_CONCURRENCY``, default one per core) with ``DETECTOR_THREADS=1`` each, not threads.
"""

from __future__ import annotations

import os
from typing import Any

# One torch thread per worker process unless told otherwise: processes already use every core, and
# OpenMP threads competing with the other workers for the same cores are many times slower.
os.environ.setdefault("DETECTOR_THREADS", "1")

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "0")) or len(os.sched_getaffinity(0))
worker_class = "sync"
timeout = 120  # a large image scan on a busy machine; videos go to Celery
graceful_timeout = 30
max_requests = 2000  # recycle workers now and then (bounded memory growth)
max_requests_jitter = 200
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None


def post_worker_init(worker: Any) -> None:
    """Load the model once per worker process, before it takes its first request."""
    from moderation.core.shared_detector import warm_up

    warm_up()
