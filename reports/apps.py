from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "FakeME reports and review"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from reports import signals  # noqa: F401  a completed re-scan updates its review item
