"""Celery task of a generation: takes the generation's number, calls the runner.

Like scans: acknowledged late, put back when the worker process dies (``reject_on_worker_lost``;
the service gives up after ``MAX_ATTEMPTS``), routed to the inference queue by
``CELERY_TASK_ROUTES``. The engines load once per worker process (dlib's models are cached by the
engine, SimSwap's networks by ``generation.engines``) on the first generation, not per task.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings


@shared_task(
    name="generation.generation_run",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=settings.FAKEME_GENERATION["SOFT_TIME_LIMIT_S"],
    time_limit=settings.FAKEME_GENERATION["TIME_LIMIT_S"],
)
def generation_run(generation_id: int) -> None:
    # Here, not at the top: the runner pulls in the swap engines and the model stack, which the
    # processes that only queue generations never need; the app registry imports this module.
    from generation.services.runs import generation_process

    generation_process(generation_id=int(generation_id))
