"""Grow the deterministic demo catalog: 25 departments, 25,000 products (--small: 500).

Idempotent (see catalog.services.seeding).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from catalog.services.seeding import catalog_seed


class Command(BaseCommand):
    help = "Create the demo catalog (25 departments, 25,000 products; --small: 500). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--small", action="store_true", help="Only the first 500 products.")

    def handle(self, *args: Any, small: bool = False, **options: Any) -> None:
        report = catalog_seed(small=small)
        if not report.created:
            self.stdout.write(f"Catalog already seeded ({report.already_there} demo products).")
            return
        self.stdout.write(
            f"Catalog seeded: {report.created} products created, "
            f"{report.already_there} already there."
        )
