"""Demo couriers (`courier-<n>` / prime-now-demo) at each active hub, and blocks covering
today and tomorrow there. Deterministic and idempotent: a second run only adds what is missing.
"""

import sys
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from fulfillment.services import hubs_active

from ...models import CourierProfile, Vehicle
from ...transport.blocks import block_ensure
from ...transport.couriers import courier_upsert

PASSWORD = "prime-now-demo"
VEHICLES = (Vehicle.EBIKE, Vehicle.BICYCLE, Vehicle.SCOOTER, Vehicle.CAR)
BLOCK_HOURS = 4  # six blocks a day, so there is always one on


class Command(BaseCommand):
    help = "Demo couriers at each hub and blocks for today and tomorrow. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--small", action="store_true", help="Two couriers per hub.")

    def handle(self, *args, small: bool = False, **options):
        hubs = hubs_active()
        per_hub = 2 if small else 8
        show = sys.stdout.isatty() and options.get("verbosity", 1) != 0
        created = 0
        number = 0
        for hub in tqdm(hubs, desc="couriers", disable=not show):
            for _ in range(per_hub):
                number += 1
                created += self._courier(number, hub.code)
        blocks = 0
        for hub in tqdm(hubs, desc="blocks", disable=not show):
            blocks += self._blocks(hub.code, hub.timezone, wanted=per_hub)
        self.stdout.write(
            f"{number} couriers ({created} new) courier-<n> / {PASSWORD}; "
            f"{blocks} blocks for today and tomorrow"
        )

    def _courier(self, number: int, hub_code: str) -> int:
        username = f"courier-{number}"
        user_model = get_user_model()
        with transaction.atomic():
            user, created = user_model.objects.get_or_create(
                username=username,
                defaults={"first_name": f"Courier {number}", "email": f"{username}@example.com"},
            )
            if created:
                user.set_password(PASSWORD)
                user.save(update_fields=["password"])
            if not created and CourierProfile.objects.filter(user=user).exists():
                return 0
            courier_upsert(
                user_id=user.pk,
                home_hub_code=hub_code,
                vehicle=VEHICLES[number % len(VEHICLES)],
                bag_capacity=3 + number % 3,
            )
        return 1

    def _blocks(self, hub_code: str, tz_name: str, *, wanted: int) -> int:
        tz = ZoneInfo(tz_name or "UTC")
        today = timezone.now().astimezone(tz).date()
        made = 0
        for day in (today, today + timedelta(days=1)):
            midnight = datetime.combine(day, time(0), tzinfo=tz)
            for start_hour in range(0, 24, BLOCK_HOURS):
                starts = midnight + timedelta(hours=start_hour)
                ends = starts + timedelta(hours=BLOCK_HOURS)
                if ends <= timezone.now():
                    continue
                block_ensure(hub_code=hub_code, starts_at=starts, ends_at=ends, wanted=wanted)
                made += 1
        return made
