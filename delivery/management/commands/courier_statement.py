"""Payout statement: what each courier earned between two dates (UTC), as CSV.

    manage.py courier_statement                      # last full week (Monday to Sunday)
    manage.py courier_statement --start 2026-11-30 --end 2026-12-06 --output payouts.csv

Read-only, so running it again gives the same statement.
"""

import csv
import sys
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from delivery.transport.earnings import earnings_statement

COLUMNS = ("courier", "trips", "deliveries", "base_pay", "tips", "total")


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--{name} must be a date such as 2026-12-06, not {value!r}") from None


def write_statement(out, lines) -> None:
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for line in lines:
        writer.writerow(
            (line.username, line.trips, line.deliveries, line.base_pay, line.tips, line.total)
        )
    writer.writerow(
        (
            "TOTAL",
            sum(x.trips for x in lines),
            sum(x.deliveries for x in lines),
            sum((x.base_pay for x in lines), 0),
            sum((x.tips for x in lines), 0),
            sum((x.total for x in lines), 0),
        )
    )


class Command(BaseCommand):
    help = "Print each courier's earnings (base pay per delivered trip plus tips) as CSV."

    def add_arguments(self, parser):
        parser.add_argument("--start", help="First day (UTC), YYYY-MM-DD.")
        parser.add_argument("--end", help="Last day (UTC), YYYY-MM-DD.")
        parser.add_argument("--output", help="Write the CSV here instead of to stdout.")

    def handle(self, *args, **opts):
        today = timezone.now().date()
        last_monday = today - timedelta(days=today.weekday() + 7)
        start = _date(opts["start"], "start") if opts["start"] else last_monday
        end = _date(opts["end"], "end") if opts["end"] else start + timedelta(days=6)
        if start > end:
            raise CommandError("--start must be on or before --end")
        lines = earnings_statement(start=start, end=end)
        if opts["output"]:
            with open(opts["output"], "w", newline="") as out:
                write_statement(out, lines)
        else:
            write_statement(sys.stdout, lines)
        self.stderr.write(f"{len(lines)} courier(s), {start} to {end} (UTC).")
