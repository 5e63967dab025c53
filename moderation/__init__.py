"""FakeME Django project: settings, URLs, Celery app, and the platform-facing scan API."""

import detection  # noqa: F401  first: sets the OpenMP wait policy before anything loads torch

from .celery import app as celery_app

__all__ = ("celery_app",)
