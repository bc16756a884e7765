from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the periodic task by name)
        from .handlers import register

        register()
