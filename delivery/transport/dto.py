"""What transport's services return: frozen dataclasses, never models; statuses as enums."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..models.transport import JobStatus, OfferStatus, TripStatus, Vehicle


@dataclass(frozen=True)
class CourierDTO:
    user_id: int
    username: str
    vehicle: Vehicle
    bag_capacity: int
    home_hub_code: str
    hub_codes: tuple[str, ...]  # the hubs the courier works for (claims blocks at), home first
    rating: Decimal
    online: bool
    lat: float | None
    lon: float | None
    located_at: datetime | None


@dataclass(frozen=True)
class BlockDTO:
    id: int
    hub_code: str
    starts_at: datetime
    ends_at: datetime
    wanted: int
    claimed: int
    open_slots: int
    claimed_by_me: bool
    forfeit_until: datetime


@dataclass(frozen=True)
class PingResult:
    accepted_at: datetime
    stale_after: datetime


@dataclass(frozen=True)
class OfferDTO:
    """What a courier sees of an offer: enough to decide, not the customer's address."""

    id: str
    job_id: str
    status: OfferStatus
    hub_code: str
    bags: int
    postcode: str
    window_start: datetime
    window_end: datetime
    distance_to_hub_km: float | None
    dropoff_distance_km: float | None  # hub to drop-off
    age_restricted: bool
    expires_at: datetime
    joins_trip: bool  # taking it adds a stop to the trip you already have


@dataclass(frozen=True)
class StopDTO:
    """A stop of the courier's trip. Address and position only for the current stop."""

    job_id: str
    sequence: int
    status: JobStatus
    postcode: str
    window_start: datetime
    window_end: datetime
    bags: int
    age_restricted: bool
    eta: datetime | None
    current: bool
    order_number: str | None
    address: str | None
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class TripDTO:
    id: str
    status: TripStatus
    hub_code: str
    hub_lat: float | None
    hub_lon: float | None
    bags: int
    created_at: datetime
    stops: tuple[StopDTO, ...]


@dataclass(frozen=True)
class JobDTO:
    id: str
    order_number: str
    hub_code: str
    status: JobStatus
    courier_user_id: int | None
    misses: int
    flag_reason: str
    at_risk: bool
    eta: datetime | None
    window_start: datetime
    window_end: datetime


@dataclass(frozen=True)
class CourierSupplyDTO:
    """A hub's couriers now: online on a block at the hub, against what its blocks want."""

    hub_code: str
    online: int
    wanted: int
