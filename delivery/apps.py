from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = "Delivery"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the tasks transport enqueues by name)
        from .handlers import register

        register()
