"""Pick jobs: from a placed order to packed bags.

Lock order everywhere: pick job → reservation → stock rows (in id order). A picked unit
leaves the shelf when its line is confirmed (on_hand and reserved both drop); what the
picker could not find is released at once; a substitute is taken from what is available.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from prime_now.kernel import bus
from prime_now.kernel.roles import Role

from ..events import OrderPacked, PickStarted
from ..models import Hub, HubStaff, PickJob, PickJobLine, Reservation, ReservationLine, Stock
from . import stock as stock_service
from .dto import (
    InsufficientStockError,
    NotHubStaffError,
    PickJobDTO,
    PickJobNotFoundError,
    PickJobStateError,
    PickLineDTO,
    PickLineSpec,
    ReservationExpiredError,
    Shortage,
    StockValidationError,
)
from .stock import Kind, Move, _MoveRefused

MAX_BAGS = 50


def _line_dto(line: PickJobLine) -> PickLineDTO:
    return PickLineDTO(
        product_id=line.product_id,
        sku=line.sku,
        name=line.name,
        quantity=line.quantity,
        aisle=line.aisle,
        bin=line.bin,
        substitute_sku=line.substitute_sku or None,
        status=line.status,
        picked_quantity=line.picked_quantity,
        substitute_quantity=line.substitute_quantity,
    )


def _sorted_lines(lines) -> list[PickJobLine]:
    return sorted(lines, key=lambda line: (line.aisle, line.bin, line.sku))


def job_dto(job: PickJob, lines=None) -> PickJobDTO:
    lines = job.lines.all() if lines is None else lines
    return PickJobDTO(
        id=str(job.id),
        order_ref=job.order_ref,
        hub_code=job.hub.code,
        status=job.status,
        due_by=job.due_by,
        lines=tuple(_line_dto(line) for line in _sorted_lines(lines)),
        bags=job.bags,
        picker_id=job.picker_id,
        created_at=job.created_at,
        claimed_at=job.claimed_at,
        picked_at=job.picked_at,
        packed_at=job.packed_at,
    )


# --- staff -------------------------------------------------------------------------------------


def hub_codes_for_picker(*, picker_id: int) -> frozenset[str]:
    """Hubs where this user works as a picker (empty when they are not an active picker).
    One query: every picker action asks it."""
    return frozenset(
        HubStaff.objects.filter(
            user_id=picker_id, user__is_active=True, user__groups__name=str(Role.PICKER)
        ).values_list("hub__code", flat=True)
    )


def hub_staff_add(*, hub_code: str, user_id: int) -> None:
    """Make a user hub staff (they also need the picker role to pick). Idempotent."""
    hub = stock_service.get_hub(hub_code)
    HubStaff.objects.get_or_create(hub=hub, user_id=user_id)


def _require_staff(hub: Hub, picker_id: int) -> None:
    if hub.code not in hub_codes_for_picker(picker_id=picker_id):
        raise NotHubStaffError(fields={"hub_code": hub.code})


def _parse_job_id(job_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(job_id))
    except ValueError:
        raise PickJobNotFoundError(fields={"job_id": job_id})


def _job_for_picker(job_id: str, picker_id: int, *, lock: bool) -> PickJob:
    """The job, if the picker works at its hub. Another hub's job is 'not found' (no leak)."""
    rows = PickJob.objects.select_related("hub")
    if lock:
        rows = rows.select_for_update(of=("self",))
    job = rows.filter(pk=_parse_job_id(job_id)).first()
    if job is None or job.hub.code not in hub_codes_for_picker(picker_id=picker_id):
        raise PickJobNotFoundError(fields={"job_id": str(job_id)})
    return job


def _require_own_job(job: PickJob, picker_id: int) -> None:
    if job.status != PickJob.Status.PICKING:
        raise PickJobStateError(f"This pick job is {job.status}.", fields={"status": job.status})
    if job.picker_id != picker_id:
        raise PickJobStateError(
            "Another picker is working on this job.", fields={"picker": "someone else"}
        )


# --- the façade's side -------------------------------------------------------------------------


def pick_job_create(
    *,
    order_ref: str,
    hub_code: str,
    reservation_id: str,
    lines: Sequence[PickLineSpec],
    due_by: datetime,
) -> str:
    """Queue an order for picking; confirms its stock hold. Idempotent per order_ref."""
    existing = PickJob.objects.filter(order_ref=order_ref).values_list("id", flat=True).first()
    if existing:
        return str(existing)
    if not lines:
        raise StockValidationError("A pick job needs at least one line.", fields={"lines": []})
    skus = [line.sku for line in lines]
    if len(set(skus)) != len(skus):
        raise StockValidationError("Each SKU appears once on a pick list.", fields={"lines": skus})
    for index, line in enumerate(lines):
        if not isinstance(line.quantity, int) or line.quantity < 1:
            raise StockValidationError(
                "Each quantity must be at least 1.",
                fields={f"lines[{index}].quantity": line.quantity},
            )
    if timezone.is_naive(due_by):
        raise StockValidationError("due_by must carry a time zone.", fields={"due_by": "naive"})
    hub = stock_service.get_hub(hub_code)
    with transaction.atomic():
        reservation = stock_service.lock_reservation(reservation_id)
        if reservation.hub_id != hub.pk:
            raise StockValidationError(
                "The reservation belongs to another hub.", fields={"reservation_id": reservation_id}
            )
    stock_service.stock_reservation_confirm(reservation_id=reservation_id)
    wanted = {line.sku for line in lines} | {ln.substitute_sku for ln in lines if ln.substitute_sku}
    shelf = {
        row.sku: row
        for row in Stock.objects.filter(hub=hub, sku__in=wanted).only(
            "sku", "product_id", "aisle", "bin"
        )
    }
    try:
        with transaction.atomic():
            job = PickJob.objects.create(
                order_ref=order_ref, hub=hub, reservation=reservation, due_by=due_by
            )
            PickJobLine.objects.bulk_create(
                PickJobLine(
                    job=job,
                    product_id=line.product_id,
                    sku=line.sku,
                    name=line.name[:300],
                    quantity=line.quantity,
                    aisle=getattr(shelf.get(line.sku), "aisle", ""),
                    bin=getattr(shelf.get(line.sku), "bin", ""),
                    substitute_sku=line.substitute_sku or "",
                    substitute_product_id=getattr(
                        shelf.get(line.substitute_sku or ""), "product_id", None
                    ),
                )
                for line in lines
            )
    except Exception:
        existing = PickJob.objects.filter(order_ref=order_ref).values_list("id", flat=True).first()
        if existing:  # a concurrent create for the same order won
            return str(existing)
        raise
    return str(job.id)


def pick_job_get(*, order_ref: str) -> PickJobDTO:
    job = PickJob.objects.select_related("hub").filter(order_ref=order_ref).first()
    if job is None:
        raise PickJobNotFoundError(fields={"order_ref": order_ref})
    return job_dto(job)


def _give_back(job: PickJob, lines: list[PickJobLine], reason: str) -> None:
    """Put picked units (and substitutes) back on the shelf and release any live hold."""
    rows = {
        (row.product_id): row.pk
        for row in Stock.objects.filter(
            hub=job.hub,
            product_id__in=[ln.product_id for ln in lines]
            + [ln.substitute_product_id for ln in lines if ln.substitute_product_id],
        )
    }
    moves = []
    for line in lines:
        if line.picked_quantity and line.product_id in rows:
            moves.append(
                Move(
                    rows[line.product_id],
                    line.product_id,
                    Kind.RETURNED,
                    on_hand_delta=line.picked_quantity,
                    reason=reason,
                    reference=job.order_ref,
                )
            )
        if line.substitute_quantity and line.substitute_product_id in rows:
            moves.append(
                Move(
                    rows[line.substitute_product_id],
                    line.substitute_product_id,
                    Kind.RETURNED,
                    on_hand_delta=line.substitute_quantity,
                    reason=reason,
                    reference=job.order_ref,
                )
            )
    stock_service.apply_moves(job.hub, moves)
    if job.reservation_id:
        reservation = Reservation.objects.select_for_update().get(pk=job.reservation_id)
        if reservation.is_live:
            stock_service.end_reservations(
                [reservation], status=Reservation.Status.RELEASED, reason=reason
            )


def pick_job_cancel(*, order_ref: str, reason: str = "order cancelled") -> None:
    """Stop picking an order: its hold is released and picked goods go back on the shelf.
    Idempotent; an order without a pick job is a no-op."""
    with transaction.atomic():
        job = (
            PickJob.objects.select_for_update(of=("self",))
            .select_related("hub")
            .filter(order_ref=order_ref)
            .first()
        )
        if job is None or job.status in (PickJob.Status.CANCELLED, PickJob.Status.RETURNED):
            return
        _give_back(job, list(job.lines.all()), reason)
        job.cancel(reason=reason)
        job.save()


def goods_return(*, order_ref: str, reason: str) -> None:
    """A delivery failed: the packed goods go back on the shelf. Idempotent. A job that was
    never packed is cancelled instead."""
    with transaction.atomic():
        job = (
            PickJob.objects.select_for_update(of=("self",))
            .select_related("hub")
            .filter(order_ref=order_ref)
            .first()
        )
        if job is None:
            raise PickJobNotFoundError(fields={"order_ref": order_ref})
        if job.status in (PickJob.Status.CANCELLED, PickJob.Status.RETURNED):
            return
        _give_back(job, list(job.lines.all()), reason or "goods returned")
        if job.status == PickJob.Status.PACKED:
            job.goods_returned(reason=reason)
        else:
            job.cancel(reason=reason)
        job.save()


# --- the picker's side -------------------------------------------------------------------------


def pick_jobs_for_picker(
    *, picker_id: int, status: str | None = None, limit: int = 50
) -> tuple[PickJobDTO, ...]:
    """Jobs at the picker's hubs (earliest due first)."""
    hubs = hub_codes_for_picker(picker_id=picker_id)
    jobs = PickJob.objects.select_related("hub").filter(hub__code__in=hubs)
    jobs = (
        jobs.filter(status=status)
        if status
        else jobs.filter(status__in=[PickJob.Status.PENDING, PickJob.Status.PICKING])
    )
    jobs = jobs.prefetch_related("lines").order_by("due_by", "created_at")[
        : max(1, min(limit, 200))
    ]
    return tuple(job_dto(job) for job in jobs)


def pick_job_for_picker(*, job_id: str, picker_id: int) -> PickJobDTO:
    return job_dto(_job_for_picker(job_id, picker_id, lock=False))


def pick_job_claim_next(*, hub_code: str, picker_id: int) -> PickJobDTO | None:
    """The picker's job in progress, else the earliest-due pending job at the hub
    (SKIP LOCKED: two pickers never get the same job). None when the queue is empty."""
    hub = stock_service.get_hub(hub_code)
    _require_staff(hub, picker_id)
    mine = PickJob.objects.filter(hub=hub, status=PickJob.Status.PICKING, picker_id=picker_id)
    current = mine.select_related("hub").order_by("claimed_at").first()
    if current is not None:
        return job_dto(current)
    for _ in range(5):
        with transaction.atomic():
            job = (
                PickJob.objects.select_for_update(skip_locked=True)
                .filter(hub=hub, status=PickJob.Status.PENDING)
                .order_by("due_by", "created_at")
                .first()
            )
            if job is None:
                return None
            now = timezone.now()
            # The conditional update also keeps SQLite (no row locks) from double-claiming.
            taken = PickJob.objects.filter(pk=job.pk, status=PickJob.Status.PENDING).update(
                status=PickJob.Status.PICKING, picker_id=picker_id, claimed_at=now
            )
            if not taken:
                continue
            bus.publish(PickStarted(order_ref=job.order_ref, hub_code=hub.code))
        job = PickJob.objects.select_related("hub").get(pk=job.pk)
        return job_dto(job)
    return None


def pick_line_confirm(
    *, job_id: str, picker_id: int, sku: str, picked_quantity: int, substitute_quantity: int = 0
) -> PickJobDTO:
    """Record what the picker took for one line. A short pick releases the rest of the hold
    and may be made up with the customer's allowed substitute (taken from available stock);
    nothing picked and no substitute marks the line missing. Each line is confirmed once."""
    for name, value in (
        ("picked_quantity", picked_quantity),
        ("substitute_quantity", substitute_quantity),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise StockValidationError("Quantities are whole numbers ≥ 0.", fields={name: value})
    with transaction.atomic():
        job = _job_for_picker(job_id, picker_id, lock=True)
        _require_own_job(job, picker_id)
        line = PickJobLine.objects.filter(job=job, sku=sku).first()
        if line is None:
            raise StockValidationError("This SKU is not on the pick list.", fields={"sku": sku})
        if line.status != PickJobLine.Status.PENDING:
            raise PickJobStateError("This line is already confirmed.", fields={"sku": sku})
        if picked_quantity > line.quantity:
            raise StockValidationError(
                f"At most {line.quantity} of {sku} were ordered.",
                fields={"picked_quantity": picked_quantity},
            )
        short = line.quantity - picked_quantity
        if substitute_quantity and not line.substitute_sku:
            raise StockValidationError(
                "The customer allowed no substitute for this line.",
                fields={"substitute_quantity": substitute_quantity},
            )
        if substitute_quantity > short:
            raise StockValidationError(
                f"At most {short} substitutes make up this short pick.",
                fields={"substitute_quantity": substitute_quantity},
            )
        moves = _pick_moves(job, line, picked_quantity, substitute_quantity)
        try:
            stock_service.apply_moves(job.hub, moves)
        except _MoveRefused as refused:
            raise InsufficientStockError(
                "The shelf count does not allow this pick; check the quantity or the substitute.",
                shortages=(
                    Shortage(refused.product_id, substitute_quantity or picked_quantity, 0),
                ),
            )
        now = timezone.now()
        line.picked_quantity = picked_quantity
        line.substitute_quantity = substitute_quantity
        line.confirmed_at = now
        if short == 0:
            line.status = PickJobLine.Status.PICKED
        elif substitute_quantity:
            line.status = PickJobLine.Status.SUBSTITUTED
        elif picked_quantity:
            line.status = PickJobLine.Status.SHORT
        else:
            line.status = PickJobLine.Status.MISSING
        line.save(
            update_fields=["picked_quantity", "substitute_quantity", "confirmed_at", "status"]
        )
        if not job.lines.filter(status=PickJobLine.Status.PENDING).exists():
            job.picked_at = now
            job.save(update_fields=["picked_at"])
    return job_dto(job)


def _pick_moves(job: PickJob, line: PickJobLine, picked: int, substitutes: int) -> list[Move]:
    """Picked units come out of the order's hold; what is left of the hold is released;
    picked beyond the hold and substitutes come out of available stock."""
    moves: list[Move] = []
    held_line = None
    if job.reservation_id:
        reservation = Reservation.objects.select_for_update().get(pk=job.reservation_id)
        if not reservation.is_live:
            raise ReservationExpiredError(fields={"reservation": reservation.status})
        # One line per product in a reservation: no ORDER BY (first() would sort by id, and
        # PostgreSQL may then walk the primary key instead of the reservation's index).
        held_line = next(
            iter(
                ReservationLine.objects.filter(
                    reservation=reservation, product_id=line.product_id
                ).order_by()[:1]
            ),
            None,
        )
    held = held_line.held if held_line else 0
    stock_id = None
    if held_line:
        stock_id = held_line.stock_id
    elif picked:  # nothing held for this line: the units come out of available stock
        stock_id = _stock_id(job.hub, line.product_id)
    from_hold = min(picked, held)
    ref = job.order_ref
    if picked:
        moves.append(
            Move(
                stock_id,
                line.product_id,
                Kind.PICKED,
                on_hand_delta=-picked,
                reserved_delta=-from_hold,
                reference=ref,
            )
        )
    if held - from_hold:
        moves.append(
            Move(
                stock_id,
                line.product_id,
                Kind.RELEASED,
                reserved_delta=-(held - from_hold),
                reason="short pick",
                reference=ref,
            )
        )
    if substitutes:
        if not line.substitute_product_id:
            raise InsufficientStockError(
                "The substitute is not stocked at this hub.",
                shortages=(Shortage(0, substitutes, 0),),
            )
        moves.append(
            Move(
                _stock_id(job.hub, line.substitute_product_id),
                line.substitute_product_id,
                Kind.PICKED,
                on_hand_delta=-substitutes,
                reason=f"substitute for {line.sku}",
                reference=ref,
            )
        )
    if held_line:
        held_line.committed += from_hold
        held_line.released += held - from_hold
        held_line.save(update_fields=["committed", "released"])
    return moves


def _stock_id(hub: Hub, product_id: int) -> int:
    stock_id = Stock.objects.filter(hub=hub, product_id=product_id).values_list("pk", flat=True)
    found = stock_id.first()
    if found is None:
        raise InsufficientStockError(shortages=(Shortage(product_id, 1, 0),))
    return found


def pick_job_pack(*, job_id: str, picker_id: int, bags: int) -> PickJobDTO:
    """Every line confirmed: bag it and finish. Publishes OrderPacked."""
    if not isinstance(bags, int) or isinstance(bags, bool) or not 1 <= bags <= MAX_BAGS:
        raise StockValidationError(f"Bags: 1 to {MAX_BAGS}.", fields={"bags": bags})
    with transaction.atomic():
        job = _job_for_picker(job_id, picker_id, lock=True)
        _require_own_job(job, picker_id)
        lines = list(job.lines.all())
        pending = [line.sku for line in lines if line.status == PickJobLine.Status.PENDING]
        if pending:
            raise PickJobStateError(
                "Confirm every line before packing.", fields={"pending_skus": pending}
            )
        if job.reservation_id:
            reservation = Reservation.objects.select_for_update().get(pk=job.reservation_id)
            if reservation.is_live:  # anything held but not on the pick list goes back
                stock_service.end_reservations(
                    [reservation], status=Reservation.Status.COMMITTED, reason="picked"
                )
        job.pack(bags=bags)
        job.picked_at = job.picked_at or job.packed_at
        job.save()
        bus.publish(
            OrderPacked(
                order_ref=job.order_ref,
                hub_code=job.hub.code,
                bags=bags,
                lines=tuple(
                    {
                        "sku": line.sku,
                        "ordered_quantity": line.quantity,
                        "picked_quantity": line.picked_quantity or 0,
                        "substitute_sku": line.substitute_sku if line.substitute_quantity else "",
                        "substitute_quantity": line.substitute_quantity,
                    }
                    for line in _sorted_lines(lines)
                ),
            )
        )
    return job_dto(job, lines)
