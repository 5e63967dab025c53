"""The audit log moves to the platform core (``moderation.0006``): this app lets go of the model in
Django's state only; the table and its rows stay (the model keeps ``db_table``)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0005_moderator_settings"),
        ("moderation", "0006_audit_log_in_core"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEntry")],
            database_operations=[],
        ),
    ]
