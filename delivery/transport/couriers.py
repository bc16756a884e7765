"""What a courier does with their profile: made (the courier role granted), going online and
offline, location pings."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from prime_now.kernel.errors import ValidationError
from prime_now.kernel.roles import Role, role_grant

from ..models import CourierProfile, Vehicle
from .config import dispatch_config
from .dto import CourierDTO, PingResult
from .errors import PingTooFrequentError
from .offers import offers_withdraw_for_courier
from .profiles import courier_dto, courier_for_user
from .trips import trip_refresh_eta


def courier_upsert(
    *,
    user_id: int,
    home_hub_code: str,
    vehicle: str = Vehicle.EBIKE,
    bag_capacity: int = 4,
    rating: Decimal | None = None,
    other_hub_codes: Sequence[str] | None = None,
) -> CourierDTO:
    """Create or update a courier's profile and give the user the courier role. The courier
    works for the home hub and `other_hub_codes` (None: those kept as they are)."""
    if vehicle not in Vehicle.values:
        raise ValidationError(fields={"vehicle": f"One of {', '.join(Vehicle.values)}."})
    if not 1 <= bag_capacity <= 20:
        raise ValidationError(fields={"bag_capacity": "Between 1 and 20."})
    if rating is not None and not Decimal(0) <= rating <= Decimal(5):
        raise ValidationError(fields={"rating": "Between 0 and 5."})
    with transaction.atomic():
        user = get_user_model().objects.get(pk=user_id)
        role_grant(user_id=user.pk, role=Role.COURIER)
        defaults = {
            "home_hub_code": home_hub_code,
            "vehicle": vehicle,
            "bag_capacity": bag_capacity,
        }
        if rating is not None:
            defaults["rating"] = rating
        if other_hub_codes is not None:
            defaults["other_hub_codes"] = sorted(set(other_hub_codes) - {home_hub_code})
        profile, _ = CourierProfile.objects.update_or_create(user=user, defaults=defaults)
    return courier_dto(profile)


def courier_get(*, user_id: int) -> CourierDTO:
    return courier_dto(courier_for_user(user_id))


def courier_set_online(*, user_id: int, online: bool) -> CourierDTO:
    """Go online (eligible for offers while on a block) or offline (no new offers; pending
    directed offers are handed back so the job moves on at once)."""
    with transaction.atomic():
        profile = courier_for_user(user_id, lock=True)
        if profile.online != online:
            profile.online = online
            profile.online_changed_at = timezone.now()
            profile.save(update_fields=["online", "online_changed_at"])
        if not online:
            offers_withdraw_for_courier(courier_id=profile.pk)
    return courier_dto(profile)


def courier_ping(
    *,
    user_id: int,
    lat: float,
    lon: float,
    speed_kmh: float | None = None,
    at: datetime | None = None,
) -> PingResult:
    """Record where the courier is. Pings closer together than the configured interval are
    refused (429) so a chatty app cannot flood the database; trip ETAs follow the new position."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError(fields={"lat": "Latitude -90..90, longitude -180..180."})
    if speed_kmh is not None and not 0 <= speed_kmh <= 200:
        raise ValidationError(fields={"speed_kmh": "Between 0 and 200."})
    config = dispatch_config()
    now = at or timezone.now()
    with transaction.atomic():
        profile = courier_for_user(user_id, lock=True)
        if profile.located_at is not None:
            since = (now - profile.located_at).total_seconds()
            if 0 <= since < config.ping_min_interval_seconds:
                wait = config.ping_min_interval_seconds - since
                raise PingTooFrequentError(
                    retry_after=wait, fields={"retry_after_seconds": round(wait, 2)}
                )
        profile.lat, profile.lon, profile.speed_kmh, profile.located_at = lat, lon, speed_kmh, now
        profile.save(update_fields=["lat", "lon", "speed_kmh", "located_at"])
        trip_refresh_eta(courier=profile, now=now)
    return PingResult(
        accepted_at=now, stale_after=now + timedelta(seconds=config.ping_stale_seconds)
    )
