"""The audit log moves from the reports app to the platform core (issue 20): its table
``reports_auditentry`` and its rows stay where they are; only Django's state changes hands."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0005_content_credentials"),
        # The table exists (reports created it) before this app takes it over.
        ("reports", "0005_moderator_settings"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEntry",
                    fields=[
                        (
                            "id",
                            models.UUIDField(
                                default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        (
                            "actor_label",
                            models.CharField(
                                help_text="Username, 'system' or 'platform <name>'.", max_length=200
                            ),
                        ),
                        ("action", models.CharField(db_index=True, max_length=64)),
                        ("target_type", models.CharField(blank=True, max_length=32)),
                        ("target_id", models.CharField(blank=True, max_length=64)),
                        ("target_label", models.CharField(blank=True, max_length=300)),
                        ("description", models.TextField()),
                        ("before", models.JSONField(blank=True, null=True)),
                        ("after", models.JSONField(blank=True, null=True)),
                        (
                            "group_id",
                            models.UUIDField(
                                blank=True, db_index=True, help_text="Shared by a bulk action.", null=True
                            ),
                        ),
                        ("platform_label", models.CharField(blank=True, max_length=100)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "platform",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="audit_entries",
                                to="moderation.platform",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "audit entries",
                        "db_table": "reports_auditentry",
                        "ordering": ["-created_at"],
                        "indexes": [
                            models.Index(fields=["target_type", "target_id"], name="audit_target"),
                            models.Index(fields=["actor", "-created_at"], name="audit_actor_created"),
                            models.Index(fields=["platform", "-created_at"], name="audit_platform_created"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
