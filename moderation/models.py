"""The ``moderation`` app's models, for Django: the platform core's, the provenance banks' and the
scan feature's tables live in their own packages (``moderation.core.models``, ...); this module only
gathers them so the app registry and the migrations find them. Code imports the package it needs,
never this module (the layer contract in ``.importlinter`` would see a core module depend on a feature).
"""

from moderation.core.models import (
    ApiKey,
    AuditEntry,
    MiB,
    Platform,
    WebhookAttempt,
    WebhookDelivery,
    webhook_secret_generate,
)
from moderation.provenance.models import BankEntry
from moderation.scans.models import DecidedBy, IdempotencyKey, Scan, ScanMedia, Verdict

__all__ = [
    "MiB",
    "ApiKey",
    "AuditEntry",
    "BankEntry",
    "DecidedBy",
    "IdempotencyKey",
    "Platform",
    "Scan",
    "ScanMedia",
    "Verdict",
    "WebhookAttempt",
    "WebhookDelivery",
    "webhook_secret_generate",
]
