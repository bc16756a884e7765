"""A deterministic demo world, grown by each domain app's own seed command.

Each step is an app's management command (`seed_<app>`), idempotent and fast when its data is
already there; this command only runs them in dependency order. It imports no app.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand
from django.db import transaction

from prime_now.kernel.roles import Role, role_grant

DEMO_OPERATOR = ("operator", "prime-now-demo")
STEPS = ("seed_catalog", "seed_fulfillment", "seed_ordering", "seed_delivery", "seed_couriers")


class Command(BaseCommand):
    help = "Create the demo world (operator, catalog, hubs, stock, windows, couriers). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--small",
            action="store_true",
            help="A small world (a few hundred products) for quick tests.",
        )

    def handle(self, *args, small: bool = False, **options):
        with transaction.atomic():
            for role in Role:
                Group.objects.get_or_create(name=str(role))
            self._operator()
        available = get_commands()
        for step in STEPS:
            if step in available:
                self.stdout.write(f"-- {step}")
                call_command(step, small=small, stdout=self.stdout, stderr=self.stderr)
        self.stdout.write(self.style.SUCCESS("Demo world ready."))

    def _operator(self) -> None:
        username, password = DEMO_OPERATOR
        user, created = get_user_model().objects.get_or_create(
            username=username,
            defaults={"is_staff": True, "is_superuser": True, "email": "operator@example.com"},
        )
        if created:
            user.set_password(password)
            user.save()
        role_grant(user_id=user.pk, role=Role.OPERATOR)
