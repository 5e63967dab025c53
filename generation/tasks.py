"""The generation app's Celery tasks, for the worker's autodiscovery (it imports ``<app>.tasks``):
the task lives beside the service that queues it (``generation.services.tasks``)."""

from generation.services.tasks import generation_run

__all__ = ["generation_run"]
