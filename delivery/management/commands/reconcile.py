"""Find work that fell between the cracks and re-drive or compensate it, once, now (beat runs
the same every minute): `manage.py reconcile`."""

from typing import Any

from delivery.facade.reconcile import reconcile
from prime_now.kernel.batch import SingleRunCommand


class Command(SingleRunCommand):
    help = "Re-drive or compensate lost work (see delivery/facade/reconcile.py); prints counts."

    def handle(self, *args: Any, **options: Any) -> None:
        done = reconcile()
        for case, count in done.cases.items():
            self.stdout.write(f"{case}: {count}")
        self.stdout.write(f"orders out for delivery long past their window: {done.overdue}")
        self.stdout.write(self.style.SUCCESS(f"{done.total} case(s) reconciled."))
