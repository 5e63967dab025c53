"""The Django layer around the face-swap engines: generation records, the API, the Celery task.

``generation.landmark`` and ``generation.simswap`` stay plain Python (no Django); only the
modules beside them (models, services, selectors, tasks, api) use Django. ``ready`` wires the
generation job into the platform core's lifecycle with its webhook payload.
"""

from dataclasses import replace

from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here: models and serializers load once the app registry is ready (Django's rule).
        from generation.api.serializers import GenerationOutputSerializer
        from generation.services.jobs import GENERATION_JOBS
        from moderation.core.jobs import job_kind_register

        # The webhook of a generation carries the API's own view of it.
        job_kind_register(replace(GENERATION_JOBS, payload=lambda g: GenerationOutputSerializer(g).data))
