"""Reading a courier's profile: who is a courier, how fast they go, whether their position
counts. The bottom of transport's courier code: offers, trips and blocks build on it."""

from datetime import datetime, timedelta

from prime_now.kernel.roles import Role

from ..models import CourierProfile, vehicle_speed_kmh
from ..models.transport import Vehicle
from .config import dispatch_config
from .dto import CourierDTO
from .errors import NotACourierError

MIN_REPORTED_SPEED_KMH = 3.0  # slower than this is standing still: use the vehicle's speed


def courier_dto(profile: CourierProfile) -> CourierDTO:
    return CourierDTO(
        user_id=profile.user_id,
        username=profile.user.get_username(),
        vehicle=Vehicle(profile.vehicle),
        bag_capacity=profile.bag_capacity,
        home_hub_code=profile.home_hub_code,
        hub_codes=profile.hub_codes,
        rating=profile.rating,
        online=profile.online,
        lat=profile.lat,
        lon=profile.lon,
        located_at=profile.located_at,
    )


def courier_for_user(user_id: int, *, lock: bool = False) -> CourierProfile:
    """The courier profile of a user who holds the courier role, or NotACourierError."""
    qs = CourierProfile.objects.select_related("user")
    if lock:
        qs = qs.select_for_update(of=("self",))
    profile = qs.filter(user_id=user_id, user__groups__name=str(Role.COURIER)).first()
    if profile is None or not profile.user.is_active:
        raise NotACourierError()
    return profile


def courier_speed(
    *, reported_kmh: float | None, located_at: datetime | None, vehicle: str, now: datetime
) -> float:
    """The reported speed while it is recent and plausible, else the vehicle's usual speed."""
    if (
        reported_kmh is not None
        and reported_kmh >= MIN_REPORTED_SPEED_KMH
        and located_at is not None
        and now - located_at <= timedelta(seconds=dispatch_config().ping_stale_seconds)
    ):
        return reported_kmh
    return vehicle_speed_kmh(vehicle)


def profile_speed(profile: CourierProfile, *, now: datetime) -> float:
    return courier_speed(
        reported_kmh=profile.speed_kmh,
        located_at=profile.located_at,
        vehicle=profile.vehicle,
        now=now,
    )


def position_is_fresh(profile: CourierProfile, *, now: datetime) -> bool:
    if profile.located_at is None or profile.lat is None:
        return False
    return now - profile.located_at <= timedelta(seconds=dispatch_config().ping_stale_seconds)
