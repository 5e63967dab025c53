"""The ``moderation`` app: the platform core, the provenance banks and the scan feature share it (and
its tables). ``ready`` wires the scan job into the core's lifecycle with its webhook payload."""

from dataclasses import replace

from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = "FakeME moderation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: models and the serializers that read them may only load once
        # the app registry is ready (Django's rule for ``ready``), not to dodge a cycle.
        from moderation.core.api import schema  # noqa: F401  registers the OpenAPI auth extension
        from moderation.core.jobs import job_kind_register
        from moderation.core.retention import retention_extra_register
        from moderation.scans.api.serializers import ScanOutputSerializer
        from moderation.scans.idempotency import idempotency_purge_expired
        from moderation.scans.jobs import SCAN_JOBS

        # The webhook of a scan carries the API's own view of it.
        job_kind_register(replace(SCAN_JOBS, payload=lambda scan: ScanOutputSerializer(scan).data))
        retention_extra_register(idempotency_purge_expired)
