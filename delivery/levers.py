"""Delivery's levers (prime_now.kernel.levers): what delivery can shed under stress."""

from prime_now.kernel.levers import Criticality, declare

PRECISE_PROMISE = declare(
    "delivery-precise-promise",
    sheds="The precise promise (picking backlog, travel time and basket stock per request): "
    "the promise answers the hub's standard two-hour promise instead, marked conservative.",
    owner="delivery",
    criticality=Criticality.MEDIUM,
)
COURIER_BATCHING = declare(
    "delivery-courier-batching",
    sheds="Batching: a new delivery job is no longer offered to a courier whose trip has not "
    "left yet (each job rides alone; fewer route checks per offer).",
    owner="delivery",
    criticality=Criticality.MEDIUM,
)
WINDOWS_AHEAD = declare(
    "delivery-windows-ahead",
    sheds="The periodic generation of delivery windows ahead (beat's generate-windows): runs "
    "are skipped; windows already generated are untouched; the command still runs by hand.",
    owner="delivery",
    criticality=Criticality.LOW,
)
