"""The simulator: plays pickers and couriers so orders move with nobody at the keyboard.

Pickers go through fulfillment's picker door; couriers through the same dispatch services the
courier API calls (claim blocks, go online, ping, accept, hub, pick up, ride, deliver).
Stateless between ticks: all state is in the database, so it can stop and resume any time.
"""

import io
import logging
import math
import zlib
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone
from PIL import Image, ImageDraw

from fulfillment import services as fulfillment
from prime_now.kernel.errors import ApplicationError
from prime_now.kernel.geo import distance_km
from prime_now.kernel.roles import Role

from ..models import Block, BlockClaim, CourierProfile, TripStatus
from .blocks import block_claim
from .couriers import courier_ping, courier_set_online
from .geo import move_towards
from .hubs import hub_point
from .offers import offer_accept, offers_for_courier
from .proofs import proof_upload
from .trips import stop_deliver, trip_arrive_at_hub, trip_current, trip_pick_up

logger = logging.getLogger(__name__)
ITEMS_PER_BAG = 6


def doorstep_photo() -> bytes:
    """A small JPEG standing in for the courier's photo of the bags at the door."""
    canvas = Image.new("RGB", (64, 48), (180, 140, 90))
    ImageDraw.Draw(canvas).rectangle((20, 14, 44, 40), fill=(90, 60, 30))
    out = io.BytesIO()
    canvas.save(out, format="JPEG", quality=70)
    return out.getvalue()


@dataclass
class TickReport:
    picked: int = 0
    packed: int = 0
    accepted: int = 0
    delivered: int = 0
    moved: int = 0
    errors: list[str] = field(default_factory=list)

    def busy(self) -> bool:
        return bool(self.packed or self.accepted or self.delivered or self.moved)


class Simulator:
    def __init__(
        self,
        *,
        speed_kmh: float = 25.0,
        hub_codes: tuple[str, ...] = (),
        couriers: int | None = None,
        pick: bool = True,
        substitute_every: int = 0,
    ) -> None:
        self.speed_kmh = speed_kmh
        self.hub_codes = hub_codes
        self.max_couriers = couriers
        self.pick = pick
        # Every Nth line with an allowed substitute is "not on the shelf" and substituted
        # (chosen by a stable hash of order and SKU; 0: never, 1: always).
        self.substitute_every = substitute_every
        self._last: dict[int, datetime] = {}

    # --- pickers ------------------------------------------------------------------------

    def _pickers(self) -> list[tuple[int, str]]:
        users = get_user_model().objects.filter(groups__name=str(Role.PICKER), is_active=True)
        pairs = []
        for user in users:
            for hub_code in fulfillment.hub_codes_for_picker(picker_id=user.pk):
                if not self.hub_codes or hub_code in self.hub_codes:
                    pairs.append((user.pk, hub_code))
        return pairs

    def pick_tick(self, report: TickReport) -> None:
        for picker_id, hub_code in self._pickers():
            job = fulfillment.pick_job_claim_next(hub_code=hub_code, picker_id=picker_id)
            if job is None:
                continue
            for line in job.lines:
                if line.status != fulfillment.PickLineStatus.PENDING:
                    continue
                swap = self._substitutes(job.order_ref, line)
                fulfillment.pick_line_confirm(
                    job_id=job.id,
                    picker_id=picker_id,
                    sku=line.sku,
                    picked_quantity=0 if swap else line.quantity,
                    substitute_quantity=line.quantity if swap else 0,
                )
                report.picked += 1
            items = sum(line.quantity for line in job.lines)
            bags = max(1, min(10, math.ceil(items / ITEMS_PER_BAG)))
            fulfillment.pick_job_pack(job_id=job.id, picker_id=picker_id, bags=bags)
            report.packed += 1

    def _substitutes(self, order_ref: str, line: fulfillment.PickLineDTO) -> bool:
        if not self.substitute_every or not line.substitute_sku:
            return False
        return zlib.crc32(f"{order_ref}:{line.sku}".encode()) % self.substitute_every == 0

    # --- couriers -----------------------------------------------------------------------

    def _couriers(self) -> list[CourierProfile]:
        qs = CourierProfile.objects.select_related("user").filter(
            user__is_active=True, user__username__startswith="courier-"
        )
        if self.hub_codes:
            qs = qs.filter(home_hub_code__in=self.hub_codes)
        qs = qs.order_by("pk")
        return list(qs[: self.max_couriers] if self.max_couriers else qs)

    def _on_shift(self, courier: CourierProfile, now: datetime) -> None:
        has_block = BlockClaim.objects.filter(
            courier=courier,
            status=BlockClaim.Status.CLAIMED,
            block__starts_at__lte=now,
            block__ends_at__gt=now,
        ).exists()
        if not has_block:
            block = (
                Block.objects.filter(  # at a hub the courier works for: others refuse the claim
                    hub_code__in=courier.hub_codes, starts_at__lte=now, ends_at__gt=now
                )
                .exclude(claims__courier=courier, claims__status=BlockClaim.Status.CLAIMED)
                .filter(claimed__lt=F("wanted"))
                .first()
            )
            if block is None:
                return
            block_claim(user_id=courier.user_id, block_id=block.pk)
        if not courier.online:
            courier_set_online(user_id=courier.user_id, online=True)
        if courier.lat is None:
            hub = hub_point(courier.home_hub_code)
            courier_ping(user_id=courier.user_id, lat=hub.lat, lon=hub.lon, speed_kmh=0)

    def courier_tick(self, courier: CourierProfile, report: TickReport, now: datetime) -> None:
        user_id = courier.user_id
        self._on_shift(courier, now)
        courier.refresh_from_db()
        for offer in offers_for_courier(user_id=user_id):
            try:
                offer_accept(user_id=user_id, offer_id=offer.id)
                report.accepted += 1
                break
            except ApplicationError as exc:  # taken by someone else, bag full: next one
                logger.debug("simulator: %s could not accept: %s", user_id, exc.message)
        trip = trip_current(user_id=user_id)
        if trip is None:
            self._ping(courier, courier.lat, courier.lon, now, moving=False)
            return
        if trip.hub_lat is None or trip.hub_lon is None:
            return
        if trip.status == TripStatus.ACCEPTED:
            if self._ride(courier, trip.hub_lat, trip.hub_lon, now, report):
                trip_arrive_at_hub(user_id=user_id)
            return
        if trip.status == TripStatus.AT_HUB:
            trip_pick_up(user_id=user_id, bags=trip.bags)
            return
        stop = next((s for s in trip.stops if s.current), None)
        if stop is None:
            return
        lat, lon = (stop.lat, stop.lon) if stop.lat is not None else (trip.hub_lat, trip.hub_lon)
        if lat is None or lon is None:
            return
        if self._ride(courier, lat, lon, now, report):
            photo = proof_upload(
                user_id=user_id, job_id=stop.job_id, kind="photo", data=doorstep_photo()
            )
            stop_deliver(
                user_id=user_id,
                job_id=stop.job_id,
                proof_kind="photo",
                proof_reference=photo.id,
                lat=lat,
                lon=lon,
                age_verified=stop.age_restricted,
            )
            report.delivered += 1

    def _ride(
        self,
        courier: CourierProfile,
        lat: float,
        lon: float,
        now: datetime,
        report: TickReport,
    ) -> bool:
        """Move along the straight line toward (lat, lon) for the time since the last tick.
        True once there."""
        last = self._last.get(courier.pk) or courier.located_at or now
        seconds = max(0.0, min((now - last).total_seconds(), 60.0))
        km = self.speed_kmh * seconds / 3600
        here = (lat, lon)
        if courier.lat is not None and courier.lon is not None:
            here = (courier.lat, courier.lon)
        new_lat, new_lon, arrived = move_towards(here[0], here[1], lat, lon, km)
        if distance_km(here[0], here[1], new_lat, new_lon) > 0:
            report.moved += 1
        self._ping(courier, new_lat, new_lon, now, moving=not arrived)
        return arrived

    def _ping(
        self,
        courier: CourierProfile,
        lat: float | None,
        lon: float | None,
        now: datetime,
        *,
        moving: bool,
    ) -> None:
        if lat is None or lon is None:
            return
        try:
            courier_ping(
                user_id=courier.user_id, lat=lat, lon=lon, speed_kmh=self.speed_kmh if moving else 0
            )
            self._last[courier.pk] = now
        except ApplicationError:  # too soon after the last ping: keep the old position
            pass

    # --- one tick ---------------------------------------------------------------------

    def tick(self) -> TickReport:
        report = TickReport()
        if self.pick:
            try:
                self.pick_tick(report)
            except ApplicationError as exc:
                report.errors.append(f"picker: {exc.message}")
        now = timezone.now()
        for courier in self._couriers():
            try:
                self.courier_tick(courier, report, now)
            except ApplicationError as exc:
                report.errors.append(f"{courier.user.username}: {exc.message}")
        return report
