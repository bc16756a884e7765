"""orders_export --from 2025-01-01 --to 2025-01-31 [--output FILE]: one CSV row per order line."""

import contextlib
import csv
import sys
from datetime import UTC, date, datetime, time, timedelta

from django.core.management.base import CommandError
from tqdm import tqdm

from ordering.models import OrderLine
from prime_now.kernel.batch import SingleRunCommand

COLUMNS = (
    "order_number",
    "placed_at",
    "status",
    "customer_id",
    "hub_code",
    "window_start",
    "window_end",
    "sku",
    "name",
    "unit_price",
    "quantity",
    "picked_quantity",
    "substitute_sku",
    "substitute_unit_price",
    "substitute_quantity",
    "line_total",
    "order_subtotal",
    "delivery_fee",
    "tip",
    "order_total",
    "currency",
    "payment_status",
)


def _day(value: str, flag: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{flag} {value!r} is not a date (YYYY-MM-DD).") from exc


class Command(SingleRunCommand):
    help = "Export orders placed from --from through --to (UTC days, inclusive) as CSV."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, start: str, end: str, output: str | None, **options):
        first, last = _day(start, "--from"), _day(end, "--to")
        if last < first:
            raise CommandError("--to is before --from.")
        since = datetime.combine(first, time.min, tzinfo=UTC)
        until = datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC)
        lines = (
            OrderLine.objects.filter(order__placed_at__gte=since, order__placed_at__lt=until)
            .select_related("order", "order__payment")
            .order_by("order__placed_at", "order_id", "position")
        )
        total = lines.count()
        target = (
            open(output, "w", newline="", encoding="utf-8")  # noqa: SIM115 - entered below
            if output
            else contextlib.nullcontext(self.stdout)
        )
        with target as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            progress = tqdm(
                lines.iterator(chunk_size=2000),
                total=total,
                unit="line",
                disable=not sys.stderr.isatty(),
            )
            for line in progress:
                order = line.order
                writer.writerow(
                    (
                        order.number,
                        order.placed_at.isoformat(),
                        order.status,
                        order.customer_id,
                        order.hub_code,
                        order.window_start.isoformat(),
                        order.window_end.isoformat(),
                        line.sku,
                        line.name,
                        line.unit_price,
                        line.quantity,
                        "" if line.picked_quantity is None else line.picked_quantity,
                        line.substitute_sku,
                        line.substitute_unit_price or "",
                        line.substitute_quantity,
                        line.line_total,
                        order.subtotal,
                        order.delivery_fee,
                        order.tip,
                        order.total,
                        order.currency,
                        order.payment.status,
                    )
                )
        self.stderr.write(f"Exported {total} order line(s) from {first} to {last}.")
