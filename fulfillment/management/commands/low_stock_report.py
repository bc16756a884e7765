import csv

from fulfillment import services
from fulfillment.levers import REPORTS
from prime_now.kernel.batch import SingleRunCommand
from prime_now.kernel.levers import lever_on


class Command(SingleRunCommand):
    help = "CSV of stock rows whose available quantity is at or below their threshold."

    def add_arguments(self, parser):
        parser.add_argument("--hub", help="only this hub")
        parser.add_argument(
            "--force", action="store_true", help=f"run even while the {REPORTS} lever is pulled"
        )

    def handle(self, *args, hub: str | None = None, force: bool = False, **options):
        if not force and not lever_on(REPORTS):
            self.stderr.write(f"Skipped: the {REPORTS} lever is pulled (--force runs it anyway).")
            return
        writer = csv.writer(self.stdout)
        writer.writerow(
            ["hub", "sku", "name", "aisle", "bin", "on_hand", "reserved", "available", "threshold"]
        )
        for row in services.low_stock(hub_code=hub):
            writer.writerow(
                [
                    row.hub_code,
                    row.sku,
                    row.name,
                    row.aisle,
                    row.bin,
                    row.on_hand,
                    row.reserved,
                    row.available,
                    row.low_stock_threshold,
                ]
            )
