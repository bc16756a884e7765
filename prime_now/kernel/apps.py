from django.apps import AppConfig


class KernelConfig(AppConfig):
    name = "prime_now.kernel"
    label = "kernel"
    verbose_name = "Platform kernel"

    def ready(self) -> None:
        from .api.authentication import connect_signals

        connect_signals()
