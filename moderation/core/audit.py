"""The audit log: every moderator and system action, and its CSV export.

Entries denormalise who (``actor_label``), what (``target_label``) and a sentence that stands
alone (``description``), so they stay readable after the user, the platform or the target is
deleted. Raw secrets never go in (an API key entry records its public prefix only).
"""

from __future__ import annotations

import csv
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model, QuerySet

from moderation.core.models import AuditEntry, Platform
from moderation.core.spreadsheet import QUOTING, spreadsheet_safe

SYSTEM = "system"
CSV_HEADER = [
    "created_at",
    "actor",
    "action",
    "target_type",
    "target_id",
    "target",
    "platform",
    "description",
    "before",
    "after",
    "group_id",
]


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


def actor_label_of(actor: AbstractBaseUser | AnonymousUser | None) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return SYSTEM
    return actor.get_username()


def target_type_of(target: Model) -> str:
    """``ReviewItem`` -> ``review_item``, ``ApiKey`` -> ``api_key``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(target).__name__).lower()


def _json_safe(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """Before/after snapshots as JSON-ready values (UUIDs, datetimes and decimals become strings)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def audit_record(
    *,
    action: str,
    description: str,
    actor: AbstractBaseUser | None = None,
    actor_label: str = "",
    target: Model | None = None,
    target_type: str = "",
    target_id: str = "",
    target_label: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    platform: Platform | None = None,
    group_id: uuid.UUID | None = None,
) -> AuditEntry:
    """Write one entry. ``target`` fills type/id/label from a model instance (``label`` or ``str``)."""
    if target is not None:
        target_type = target_type or target_type_of(target)
        target_id = target_id or str(target.pk)
        target_label = target_label or str(getattr(target, "label", None) or target)
    return AuditEntry.objects.create(
        actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        actor_label=(actor_label or actor_label_of(actor))[:200],
        action=action,
        target_type=target_type[:32],
        target_id=target_id[:64],
        target_label=target_label[:300],
        description=description,
        before=_json_safe(before),
        after=_json_safe(after),
        group_id=group_id,
        platform=platform,
        platform_label=platform.name if platform is not None else "",
    )


def _cell(value: Any) -> str:
    return "" if value is None else spreadsheet_safe(str(value))  # CSV injection: moderation.core.spreadsheet


def audit_csv_rows(entries: Iterable[AuditEntry] | QuerySet[AuditEntry]) -> Iterator[list[str]]:
    """The header, then one row per entry (formula-looking cells quoted). Streams querysets in chunks."""
    yield CSV_HEADER
    iterable = entries.iterator(chunk_size=1000) if isinstance(entries, QuerySet) else entries
    for entry in iterable:
        yield [
            _cell(value)
            for value in (
                entry.created_at.isoformat(),
                entry.actor_label,
                entry.action,
                entry.target_type,
                entry.target_id,
                entry.target_label,
                entry.platform_label,
                entry.description,
                "" if entry.before is None else json.dumps(entry.before, sort_keys=True),
                "" if entry.after is None else json.dumps(entry.after, sort_keys=True),
                entry.group_id or "",
            )
        ]


class _Echo:
    """A file-like object whose write returns the line: ``csv.writer`` on it yields CSV text lines."""

    def write(self, value: str) -> str:
        return value


def audit_csv_lines(entries: Iterable[AuditEntry] | QuerySet[AuditEntry]) -> Iterator[str]:
    """CSV text, one line at a time: feed it to a ``StreamingHttpResponse``."""
    writer = csv.writer(_Echo(), quoting=QUOTING)
    for row in audit_csv_rows(entries):
        yield writer.writerow(row)


def audit_csv_write(entries: Iterable[AuditEntry] | QuerySet[AuditEntry], out: _Writable) -> int:
    """Write the CSV to a text stream; returns the number of entries written."""
    writer = csv.writer(out, quoting=QUOTING)
    count = -1
    for row in audit_csv_rows(entries):
        writer.writerow(row)
        count += 1
    return count
