"""Building blocks for dispatch tests: a hub, couriers on a block, and packed orders made the
real way (stock reserved, order placed, picked and packed by a picker through fulfillment's
door, OrderPacked handled by delivery)."""

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from delivery.models import Block, CourierProfile, DeliveryJob
from delivery.transport.blocks import block_claim, block_publish
from delivery.transport.couriers import courier_ping, courier_set_online, courier_upsert
from fulfillment import services as fulfillment
from ordering import services as ordering
from tests.fulfillment.factories import HubFactory, PickerFactory, StockFactory
from tests.kernel.factories import UserFactory
from tests.ordering.factories import DeliverySnapshotFactory, OrderFactory

HUB_LAT, HUB_LON = 47.6101, -122.3421
# About 1.1 km north of the hub, and a neighbour 300 m further.
DOOR = (47.6201, -122.3421)
NEAR_DOOR = (47.6228, -122.3421)


def north(km: float) -> tuple[float, float]:
    """A point `km` north of the hub (1 degree of latitude is about 111.2 km)."""
    return HUB_LAT + km / 111.2, HUB_LON


def make_hub(code: str = "SEA-01"):
    return HubFactory(code=code, lat=HUB_LAT, lon=HUB_LON)


def current_block(hub_code: str, *, wanted: int = 50) -> Block:
    now = timezone.now()
    block = Block.objects.filter(
        hub_code=hub_code, starts_at__lte=now, ends_at__gt=now + timedelta(hours=1)
    ).first()
    if block is None:
        dto = block_publish(
            hub_code=hub_code,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=3),
            wanted=wanted,
        )
        block = Block.objects.get(pk=dto.id)
    return block


def make_courier(
    hub,
    *,
    at: tuple[float, float] | None = (HUB_LAT, HUB_LON),
    online: bool = True,
    on_block: bool = True,
    bag_capacity: int = 4,
    vehicle: str = "ebike",
    username: str | None = None,
):
    """A courier user with a profile at `hub`, on a block there now, online, pinged at `at`."""
    user = UserFactory(roles=["courier"], **({"username": username} if username else {}))
    courier_upsert(
        user_id=user.pk, home_hub_code=hub.code, vehicle=vehicle, bag_capacity=bag_capacity
    )
    if on_block:
        block_claim(user_id=user.pk, block_id=current_block(hub.code).pk)
    if online:
        courier_set_online(user_id=user.pk, online=True)
    if at is not None:
        courier_ping(user_id=user.pk, lat=at[0], lon=at[1])
    return user


def profile(user) -> CourierProfile:
    return CourierProfile.objects.get(user=user)


def window(start_in_minutes: int = 60, length_minutes: int = 60) -> tuple[datetime, datetime]:
    start = timezone.now() + timedelta(minutes=start_in_minutes)
    return start, start + timedelta(minutes=length_minutes)


def packed_order(
    hub,
    *,
    door: tuple[float, float] | None = DOOR,
    customer=None,
    win: tuple[datetime, datetime] | None = None,
    quantity: int = 2,
    picked: int | None = None,
    bags: int = 1,
    product=None,
    capture=None,
) -> str:
    """Place an order at `hub` and have a picker pick and pack it through fulfillment's door.
    `capture` is pytest-django's django_capture_on_commit_callbacks: with it the events are
    relayed and delivery's handlers run (the order is packed and a delivery job offered).
    Returns the order number."""
    customer = customer or UserFactory(roles=["customer"])
    start, end = win or window()
    stock = StockFactory(
        hub=hub,
        on_hand=20,
        **(
            {"product_id": product.id, "sku": product.sku, "name": product.name}
            if product is not None
            else {}
        ),
    )
    reservation = fulfillment.stock_reserve(
        hub_code=hub.code,
        lines=[fulfillment.StockLine(product_id=stock.product_id, quantity=quantity)],
        hold_for=timedelta(minutes=15),
        reference=f"test-{uuid.uuid4().hex[:12]}",
    )
    order = OrderFactory(
        customer=customer,
        lines=[
            ordering.OrderLineInput(
                product_id=stock.product_id,
                sku=stock.sku,
                name=stock.name,
                unit_price=Decimal("5.00"),
                quantity=quantity,
            )
        ],
        delivery=DeliverySnapshotFactory(
            hub_code=hub.code,
            lat=door[0] if door else None,
            lon=door[1] if door else None,
            window_start=start,
            window_end=end,
        ),
    )
    fulfillment.stock_reservation_confirm(reservation_id=reservation.id)
    fulfillment.pick_job_create(
        order_ref=order.number,
        hub_code=hub.code,
        reservation_id=reservation.id,
        lines=[
            fulfillment.PickLineSpec(
                product_id=stock.product_id, sku=stock.sku, name=stock.name, quantity=quantity
            )
        ],
        due_by=start,
    )
    picker = PickerFactory(hub=hub)

    def pick() -> None:
        job = fulfillment.pick_job_claim_next(hub_code=hub.code, picker_id=picker.pk)
        assert job is not None and job.order_ref == order.number
        fulfillment.pick_line_confirm(
            job_id=job.id,
            picker_id=picker.pk,
            sku=stock.sku,
            picked_quantity=quantity if picked is None else picked,
        )
        fulfillment.pick_job_pack(job_id=job.id, picker_id=picker.pk, bags=bags)

    if capture is None:
        pick()
    else:
        with capture(execute=True):
            pick()
    return order.number


def job_for(number: str) -> DeliveryJob:
    return DeliveryJob.objects.get(order_number=number)


def age_back(offer, seconds: int) -> None:
    """Make an offer as old as if `seconds` had passed (created and expiry move together)."""
    from delivery.models import Offer

    Offer.objects.filter(pk=offer.pk).update(
        created_at=offer.created_at - timedelta(seconds=seconds),
        expires_at=offer.expires_at - timedelta(seconds=seconds),
    )


def photo_proof(courier, job_id: str) -> str:
    """Upload a doorstep photo for the courier's stop, as the app does; its id is the proof."""
    from delivery.transport.proofs import proof_upload
    from delivery.transport.simulator import doorstep_photo

    return proof_upload(user_id=courier.pk, job_id=job_id, kind="photo", data=doorstep_photo()).id
