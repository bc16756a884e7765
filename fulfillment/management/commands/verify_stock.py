from django.core.management.base import CommandError

from fulfillment import services
from prime_now.kernel.batch import SingleRunCommand


class Command(SingleRunCommand):
    help = "Prove every stock row equals its ledger and its live holds. Exits 1 on a mismatch."

    def add_arguments(self, parser):
        parser.add_argument("--hub", help="only this hub")

    def handle(self, *args, hub: str | None = None, **options):
        mismatches = services.stock_verify(hub_code=hub)
        for m in mismatches:
            self.stderr.write(
                f"{m.hub_code}/{m.sku}: on_hand {m.on_hand} vs ledger {m.ledger_on_hand}; "
                f"reserved {m.reserved} vs ledger {m.ledger_reserved} vs live holds {m.held}"
            )
        if mismatches:
            raise CommandError(f"{len(mismatches)} stock row(s) disagree with the ledger")
        self.stdout.write("Stock agrees with the ledger and the live holds.")
