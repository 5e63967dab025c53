"""FakeME Django project: settings, URLs, Celery app, and the platform-facing scan API."""

from .celery import app as celery_app

__all__ = ("celery_app",)
