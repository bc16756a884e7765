from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from prime_now.kernel.roles import Role

DEMO_USERNAME = "customer"
DEMO_PASSWORD = "prime-now-demo"


class Command(BaseCommand):
    help = "Demo data for ordering: the demo customer (customer / prime-now-demo). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--small", action="store_true", help="Same as the full seed.")

    def handle(self, *args, **options):
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
        group, _ = Group.objects.get_or_create(name=str(Role.CUSTOMER))
        user.groups.add(group)
        verb = "Created" if created else "Kept"
        self.stdout.write(self.style.SUCCESS(f"{verb} demo customer {DEMO_USERNAME!r}."))
