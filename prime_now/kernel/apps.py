from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.module_loading import autodiscover_modules


def _sync_levers(**kwargs: object) -> None:
    from .levers import sync_declared

    sync_declared()


def _sync_roles(**kwargs: object) -> None:
    from .roles import roles_sync

    roles_sync()


class KernelConfig(AppConfig):
    name = "prime_now.kernel"
    label = "kernel"
    verbose_name = "Platform kernel"

    def ready(self) -> None:
        # The bus hands events to the task `kernel.deliver_event` by name: register it in every
        # process that publishes (a worker would find it anyway; a web process would not).
        # The fail-safe cache's metric registers now, not inside a metrics collector's first
        # cache read (prometheus-client's registry lock is not re-entrant).
        from . import (
            cache,  # noqa: F401
            tasks,  # noqa: F401
        )
        from .api import schema  # noqa: F401  (registers the API's security schemes)

        # Each app declares its levers in its own `levers.py`; they exist once migrated.
        autodiscover_modules("levers")
        post_migrate.connect(_sync_levers, sender=self, dispatch_uid="kernel-sync-levers")
        # The staff roles' groups hold exactly their permissions in roles.ROLE_PERMISSIONS
        # (also after a test database is flushed).
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="kernel-sync-roles")
