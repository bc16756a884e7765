from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    name = "prime_now.storefront"
    label = "storefront"
    verbose_name = "Storefront"
