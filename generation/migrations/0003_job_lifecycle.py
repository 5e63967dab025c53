"""Scans and generations share one job lifecycle (issue 20): the generation's end time is now
``completed_at`` like the scan's (the column is renamed; its values stay)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("generation", "0002_media_deleted_at"),
    ]

    operations = [
        migrations.RenameField(
            model_name="generation",
            old_name="finished_at",
            new_name="completed_at",
        ),
    ]
