"""The daily operations report: the funnel per hub and hour, the drop rate by reason and hub,
and the stage latencies, as one HTML page with PNG charts beside it.

    manage.py ops_report --since 24h --output report.html
"""

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.loader import render_to_string
from django.utils import timezone
from tqdm import tqdm

from insights import services as insights
from prime_now.ops import charts

_SPAN = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_span(text: str) -> timedelta:
    """`90m`, `24h`, `7d` as a timedelta; CommandError otherwise."""
    match = _SPAN.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise CommandError(f"--since {text!r}: give a number and m, h or d (e.g. 24h).")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


class Command(BaseCommand):
    help = "Write the operations report (funnel, drop rate by reason and hub, stage latencies)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", default="24h", help="period: 90m, 24h, 7d (default 24h)")
        parser.add_argument("--output", default="report.html", help="the HTML file to write")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        span = parse_span(options["since"])
        output = Path(options["output"])
        if not output.parent.exists():
            raise CommandError(f"--output: the folder {output.parent} does not exist.")
        now = timezone.now()
        since = now - span
        steps = tqdm(total=6, desc="ops_report", disable=options["no_progress"], file=self.stderr)

        rate = insights.drop_rate(since=since, until=now)
        steps.update()
        funnel = insights.funnel(since=since, until=now)
        steps.update()
        reasons = insights.drop_reasons(since=since, until=now)
        steps.update()
        latencies = insights.stage_latencies(since=since, until=now)
        steps.update()
        pngs = {
            "drops": charts.drops_by_hour(
                insights.drop_rate_by_hour(since=since, until=now), fmt="png"
            ),
            "reasons": charts.reasons_by_hub(reasons, fmt="png"),
            "latencies": charts.stage_latencies(latencies, fmt="png"),
        }
        for name, data in pngs.items():
            output.with_name(f"{output.stem}-{name}.png").write_bytes(data)
        steps.update()
        page = render_to_string(
            "ops/report.html",
            {
                "span": options["since"],
                "now": now,
                "rate": rate,
                "rate_pct": f"{rate.rate:.2%}",
                "by_reason": [
                    (reason, count, f"{count / rate.attempts:.2%}")
                    for reason, count in rate.reasons.items()
                ],
                "reasons": reasons,
                "funnel": funnel,
                "latencies": latencies,
                "stem": output.stem,
            },
        )
        output.write_text(page)
        steps.update()
        steps.close()
        self.stdout.write(
            f"Wrote {output} and {len(pngs)} charts: {rate.attempts} attempts, "
            f"{rate.dropped} dropped ({rate.rate:.2%})."
        )
