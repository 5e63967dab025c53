"""Scans take the shared job fields (``moderation.core.models.Job``): ``timings_ms`` may be blank."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0006_audit_log_in_core"),
    ]

    operations = [
        migrations.AlterField(
            model_name="scan",
            name="timings_ms",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
