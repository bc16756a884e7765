"""Fulfillment's levers (prime_now.kernel.levers): what fulfillment can shed under stress."""

from prime_now.kernel.levers import Criticality, declare

REPORTS = declare(
    "fulfillment-reports",
    sheds="Scheduled reports (`low_stock_report`): a scheduled run skips and says so; "
    "`--force` still runs one by hand.",
    owner="fulfillment",
    criticality=Criticality.LOW,
)
