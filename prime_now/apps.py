from django.apps import AppConfig


class PrimeNowConfig(AppConfig):
    """The edge as an app: it holds the cross-app management commands (seed_demo)."""

    name = "prime_now"
    verbose_name = "Prime Now"
