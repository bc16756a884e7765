"""Demo delivery windows: templates for every active hub, windows for the next days."""

import sys
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from tqdm import tqdm

from delivery.facade.windows import window_templates_ensure, windows_generate
from delivery.models import WindowKind
from fulfillment import services as fulfillment

# Round the clock, so the demo has an open window whatever the hour.
TEMPLATES: dict[str, dict[str, Any]] = {
    WindowKind.ONE_HOUR: {
        "start_hour": 0,
        "end_hour": 24,
        "capacity": 12,
        "fee": Decimal("7.99"),
        "free_above": None,
        "cutoff_minutes": 10,
    },
    WindowKind.TWO_HOUR: {
        "start_hour": 0,
        "end_hour": 24,
        "capacity": 30,
        "fee": Decimal("4.99"),
        "free_above": Decimal("35.00"),
        "cutoff_minutes": 20,
    },
}


class Command(BaseCommand):
    help = "Window templates for every active hub and windows for the next days. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--small", action="store_true", help="Two days of windows, not seven.")

    def handle(self, *args, small: bool = False, **options):
        days = 2 if small else 7
        codes = [hub.code for hub in fulfillment.hubs_active()]
        if not codes:
            self.stderr.write("No active hubs: run seed_fulfillment first.")
            return
        templates = window_templates_ensure(hub_codes=codes, defaults=TEMPLATES)
        created = 0
        for code in tqdm(codes, desc="windows", unit="hub", disable=not sys.stderr.isatty()):
            created += windows_generate(days=days, hub_codes=[code]).created
        self.stdout.write(
            f"{len(codes)} hubs: {templates} window templates and {created} windows created."
        )
