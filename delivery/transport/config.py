"""Dispatch tunables, read from Django settings (set from the environment in settings)."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class DispatchConfig:
    offer_seconds: int  # how long one courier has to answer an offer
    max_misses: int  # declines/expiries before the job is flagged and broadcast
    reoffer_after_seconds: int  # a courier who missed a job may be asked again after this
    ping_min_interval_seconds: float  # pings closer together than this are refused
    ping_stale_seconds: int  # a position older than this does not count
    forfeit_cutoff_minutes: int  # a block can be forfeited until this long before it starts
    geofence_meters: float  # delivered must be reported this close to the drop-off
    pickup_minutes: int  # time at the hub to collect bags
    handover_minutes: int  # time at each door
    batch_max_detour_km: float  # a job joins a batch only if its drop-off is this close
    max_block_hours: int


def dispatch_config() -> DispatchConfig:
    def get(name: str, default: Any) -> Any:
        return getattr(settings, f"DELIVERY_DISPATCH_{name.upper()}", default)

    return DispatchConfig(
        offer_seconds=int(get("offer_seconds", 30)),
        max_misses=int(get("max_misses", 5)),
        reoffer_after_seconds=int(get("reoffer_after_seconds", 300)),
        ping_min_interval_seconds=float(get("ping_min_interval_seconds", 1.0)),
        ping_stale_seconds=int(get("ping_stale_seconds", 120)),
        forfeit_cutoff_minutes=int(get("forfeit_cutoff_minutes", 45)),
        geofence_meters=float(get("geofence_meters", 150.0)),
        pickup_minutes=int(get("pickup_minutes", 4)),
        handover_minutes=int(get("handover_minutes", 2)),
        batch_max_detour_km=float(get("batch_max_detour_km", 3.0)),
        max_block_hours=int(get("max_block_hours", 12)),
    )
