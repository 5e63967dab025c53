"""The Django layer around the face-swap engines: generation records, the API, the Celery task.

``generation.landmark`` and ``generation.simswap`` stay plain Python (no Django); only the
modules beside them (models, services, selectors, tasks, api) use Django.
"""

from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation"
    default_auto_field = "django.db.models.BigAutoField"
