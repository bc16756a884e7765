"""A deterministic demo world, grown by each domain app's own seed command.

Each step is an app's management command (`seed_<app>`), idempotent and fast when its data is
already there; this command only runs them in dependency order. It imports no app.

The demo's staff hold roles, never superuser rights: `operator` (operator), `dispatcher`,
`support`, and each hub's `manager-<hub>` (made by seed_fulfillment, which knows the hubs).
Refused under the production settings (DEMO_DATA_ALLOWED): those logins are public.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from prime_now.kernel.roles import Role, role_grant

DEMO_PASSWORD = "prime-now-demo"
DEMO_STAFF = (
    ("operator", Role.OPERATOR),
    ("dispatcher", Role.DISPATCHER),
    ("support", Role.SUPPORT),
)
STEPS = ("seed_catalog", "seed_fulfillment", "seed_ordering", "seed_delivery", "seed_couriers")


class Command(BaseCommand):
    help = (
        "Create the demo world (staff, catalog, hubs, stock, windows, couriers). Idempotent. "
        "Refused under the production settings."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--small",
            action="store_true",
            help="A small world (a few hundred products) for quick tests.",
        )

    def handle(self, *args, small: bool = False, **options):
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(
                "seed_demo is refused under the production settings: it creates logins "
                f"everyone knows (operator / {DEMO_PASSWORD}). Create real staff with "
                "createsuperuser and grant roles in the admin."
            )
        with transaction.atomic():  # the roles' groups: every migrate keeps them (kernel.apps)
            for username, role in DEMO_STAFF:
                self._staff(username, role)
        available = get_commands()
        for step in STEPS:
            if step in available:
                self.stdout.write(f"-- {step}")
                call_command(step, small=small, stdout=self.stdout, stderr=self.stderr)
        self.stdout.write(self.style.SUCCESS("Demo world ready."))

    def _staff(self, username: str, role: Role) -> None:
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
        # Earlier demo worlds made the operator a superuser: no longer.
        user.is_superuser = False
        user.save()
        role_grant(user_id=user.pk, role=role)
