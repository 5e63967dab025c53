"""Celery application ``fakeme``: ``celery -A moderation worker -Q inference,celery``.

Configured from Django settings with the ``CELERY_`` prefix. Without ``CELERY_BROKER_URL``
the settings make tasks run eagerly (in-process), so the embedded mode needs no Redis.
Each worker process loads the detection model once, when it starts (below).
"""

import logging
import os
from typing import Any

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "moderation.settings")

app = Celery("fakeme")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


def _load_model() -> None:
    from detection.errors import DetectionError
    from moderation.core.shared_detector import warm_up

    try:
        detector = warm_up()
        logger.info("detector loaded: %s %s", detector.model_info.name, detector.model_info.version)
    except DetectionError as exc:  # /readyz reports it; scans fail with the same code
        logger.error("detector not loaded: %s %s", exc.code, exc.message)


@worker_process_init.connect
def _on_worker_process_init(**_: Any) -> None:
    """Sent in each prefork child and by the solo pool: every process that runs tasks loads the model once.

    (The threads pool sends no such signal; there the model loads on the first task, once per process.)
    """
    _load_model()
