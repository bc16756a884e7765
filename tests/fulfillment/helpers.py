from datetime import timedelta

from django.utils import timezone

from fulfillment import services
from fulfillment.services import PickLineSpec, StockLine


def place_order(hub, rows, *, order_ref: str, quantity: int = 2, substitutes=None, due_in=30):
    """Reserve `quantity` of each stock row and queue a pick job, as the delivery façade does."""
    substitutes = substitutes or {}
    reservation = services.stock_reserve(
        hub_code=hub.code,
        lines=[StockLine(product_id=r.product_id, quantity=quantity) for r in rows],
        hold_for=timedelta(minutes=15),
        reference=order_ref,
    )
    job_id = services.pick_job_create(
        order_ref=order_ref,
        hub_code=hub.code,
        reservation_id=reservation.id,
        lines=[
            PickLineSpec(
                product_id=r.product_id,
                sku=r.sku,
                name=r.name,
                quantity=quantity,
                substitute_sku=substitutes.get(r.sku),
            )
            for r in rows
        ],
        due_by=timezone.now() + timedelta(minutes=due_in),
    )
    return job_id, reservation.id
