from django.apps import AppConfig


class KernelConfig(AppConfig):
    name = "prime_now.kernel"
    label = "kernel"
    verbose_name = "Platform kernel"

    def ready(self) -> None:
        # The bus hands events to the task `kernel.deliver_event` by name: register it in every
        # process that publishes (a worker would find it anyway; a web process would not).
        from . import tasks  # noqa: F401
