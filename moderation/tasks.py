"""The ``moderation`` app's Celery tasks, for the worker's autodiscovery (it imports ``<app>.tasks``):
the platform core's and the scan feature's tasks live beside their services."""

from moderation.core.tasks import media_retention_purge, requeue_stranded, webhook_deliver
from moderation.scans.tasks import scan_process

__all__ = ["media_retention_purge", "requeue_stranded", "scan_process", "webhook_deliver"]
