from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the tasks by name)
        from .handlers import register

        register()
