"""Upgrading a database from the layout before the redesign (issue 20) keeps every row.

The database is built at that migration head (moderation 0005, reports 0005, generation 0002), one
row is written into every table of the three apps through the historical models, the database is
migrated to the current head, and every row is found again, through today's models, with its values
(the audit log's rows now read through ``moderation.core.models.AuditEntry``; a generation's
``finished_at`` is now ``completed_at``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.apps import apps as live_apps
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("moderation", "0005_content_credentials"),
    ("reports", "0005_moderator_settings"),
    ("generation", "0002_media_deleted_at"),
]
APPS = {"moderation", "reports", "generation"}
WHEN = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def _value(field: models.Field, made: dict[str, Any]) -> Any:
    """A valid value for a required field of a historical model."""
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, models.ForeignKey | models.OneToOneField):
        return made.get(field.related_model._meta.label_lower)  # None: a self-reference of the first row
    if isinstance(field, models.UUIDField):
        return uuid.uuid4()
    if isinstance(field, models.BooleanField):
        return True
    if isinstance(field, models.IntegerField):  # Positive*/Big*/SmallIntegerField
        return 7
    if isinstance(field, models.FloatField):
        return 0.25
    if isinstance(field, models.DateTimeField):
        return WHEN
    if isinstance(field, models.JSONField):
        return {"kept": True}
    if isinstance(field, models.CharField | models.TextField):
        return "x" * min(field.max_length or 8, 8)
    raise AssertionError(f"no test value for {field!r}")


def _required(field: models.Field) -> bool:
    stamped = getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False)
    return not (field.auto_created or field.null or field.has_default() or stamped)


def _ordered(state_apps: Any) -> list[type[models.Model]]:
    """The three apps' historical models, each after the models its foreign keys point at."""
    todo = [m for m in state_apps.get_models() if m._meta.app_label in APPS]
    done: list[type[models.Model]] = []
    while todo:
        for model in todo:
            targets = {
                f.related_model._meta.label_lower
                for f in model._meta.fields
                if f.is_relation and f.related_model is not model and f.related_model._meta.app_label in APPS
            }
            if targets <= {m._meta.label_lower for m in done}:
                done.append(model)
                todo.remove(model)
                break
        else:
            raise AssertionError(f"foreign-key cycle among {todo}")
    return done


@pytest.mark.django_db(transaction=True)
def test_migrating_from_the_old_layout_keeps_every_row_of_every_table() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user_model = old.get_model("auth", "User")
    made: dict[str, Any] = {"auth.user": user_model.objects.create(username="upgrader")}
    written: dict[str, dict[str, Any]] = {}
    for model in _ordered(old):
        values = {f.name: _value(f, made) for f in model._meta.fields if _required(f) or f.is_relation}
        if model._meta.label_lower == "generation.generation":
            values["id"] = 0x12345  # its primary key is the watermark payload, never generated
            values["finished_at"] = WHEN
        for name in [n for n, v in values.items() if v is None]:
            values.pop(name)
        row = model.objects.create(**values)
        made[model._meta.label_lower] = row
        written[model._meta.label] = {
            "pk": row.pk,
            **{k: v for k, v in values.items() if not isinstance(v, models.Model)},
        }
    old_tables = {m._meta.db_table for m in _ordered(old)}

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    # Every table the old layout had is still there, and every current model of the three apps has its table.
    tables = set(connection.introspection.table_names())
    assert old_tables <= tables
    current = [m for m in live_apps.get_models() if m._meta.app_label in APPS]
    assert {m._meta.db_table for m in current} <= tables
    # The audit log now belongs to the core, in the same table.
    audit = live_apps.get_model("moderation", "AuditEntry")
    assert audit._meta.db_table == "reports_auditentry"
    moved = {"reports.AuditEntry": "moderation.AuditEntry"}
    renamed = {"generation.Generation": {"finished_at": "completed_at"}}
    for label, values in written.items():
        model = live_apps.get_model(moved.get(label, label))
        row = model.objects.get(pk=values["pk"])
        for name, value in values.items():
            name = renamed.get(label, {}).get(name, name)
            assert getattr(row, name) == value, (label, name)
    assert len(written) == len(old_tables) == 16  # every table of the old layout got a row
