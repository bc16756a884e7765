from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from prime_now.kernel.roles import Role, role_grant

DEMO_USERNAME = "customer"
DEMO_PASSWORD = "prime-now-demo"


class Command(BaseCommand):
    help = "Demo data for ordering: the demo customer (customer / prime-now-demo). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--small", action="store_true", help="Same as the full seed.")

    def handle(self, *args: Any, **options: Any) -> None:
        user, created = get_user_model().objects.get_or_create(
            username=DEMO_USERNAME,
            defaults={
                "email": "customer@example.com",
                "first_name": "Demo",
                "last_name": "Customer",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        role_grant(user_id=user.pk, role=Role.CUSTOMER)
        verb = "Created" if created else "Kept"
        self.stdout.write(self.style.SUCCESS(f"{verb} demo customer {DEMO_USERNAME!r}."))
