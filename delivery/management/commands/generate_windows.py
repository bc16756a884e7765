"""Create the delivery windows of the next N days from the hubs' window templates."""

import sys

from django.core.management.base import CommandError
from tqdm import tqdm

from delivery.facade.windows import windows_generate
from delivery.models import WindowTemplate
from prime_now.kernel.batch import SingleRunCommand


class Command(SingleRunCommand):
    help = "Create delivery windows for the next N days from the window templates. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7, help="Days ahead (today included).")
        parser.add_argument("--hub", action="append", dest="hubs", help="Only this hub (repeat).")

    def handle(self, *args, days: int, hubs: list[str] | None = None, **options):
        if days < 0:
            raise CommandError("--days cannot be negative.")
        codes = hubs or list(
            WindowTemplate.objects.filter(active=True)
            .values_list("hub_code", flat=True)
            .distinct()
            .order_by("hub_code")
        )
        created, skipped = 0, list[str]()
        for code in tqdm(codes, desc="hubs", unit="hub", disable=not sys.stderr.isatty()):
            report = windows_generate(days=days, hub_codes=[code])
            created += report.created
            skipped.extend(report.skipped_hubs)
        for code in skipped:
            self.stderr.write(f"hub {code}: has window templates but is unknown or inactive")
        self.stdout.write(f"{created} windows created for {len(codes) - len(skipped)} hubs.")
        if skipped:
            raise CommandError(f"{len(skipped)} hub(s) skipped: {', '.join(skipped)}")
