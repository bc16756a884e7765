"""Pick jobs: from a placed order to packed bags.

Lock order everywhere: pick job → reservation → stock rows (in id order). A picked unit
leaves the shelf when its line is confirmed (on_hand and reserved both drop); what the
picker could not find is released at once; a substitute is taken from what is available.
"""

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from prime_now.kernel import bus
from prime_now.kernel.roles import Role

from ..events import OrderPacked, PackedLine, PickStarted
from ..metrics import pick_lines, placed_to_packed
from ..models import (
    Hub,
    HubStaff,
    MovementKind,
    PickJob,
    PickJobLine,
    PickJobStatus,
    PickLineStatus,
    Reservation,
    ReservationLine,
    ReservationStatus,
    Stock,
)
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
from .hubs import hub_row
from .ledger import Move, MoveRefused, apply_moves
from .reservations import lock_reservation, reservations_end, stock_reservation_confirm

MAX_BAGS = 50
ENDED = (PickJobStatus.CANCELLED, PickJobStatus.RETURNED)


def _line_dto(line: PickJobLine) -> PickLineDTO:
    return PickLineDTO(
        product_id=line.product_id,
        sku=line.sku,
        name=line.name,
        quantity=line.quantity,
        aisle=line.aisle,
        bin=line.bin,
        substitute_sku=line.substitute_sku or None,
        status=PickLineStatus(line.status),
        picked_quantity=line.picked_quantity,
        substitute_quantity=line.substitute_quantity,
    )


def _walking_order(lines: Iterable[PickJobLine]) -> list[PickJobLine]:
    return sorted(lines, key=lambda line: (line.aisle, line.bin, line.sku))


def job_dto(job: PickJob, lines: Iterable[PickJobLine] | None = None) -> PickJobDTO:
    return PickJobDTO(
        id=str(job.id),
        order_ref=job.order_ref,
        hub_code=job.hub.code,
        status=PickJobStatus(job.status),
        due_by=job.due_by,
        lines=tuple(_line_dto(line) for line in _walking_order(lines or job.lines.all())),
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
    HubStaff.objects.get_or_create(hub=hub_row(hub_code), user_id=user_id)


def _require_staff(hub: Hub, picker_id: int) -> None:
    if hub.code not in hub_codes_for_picker(picker_id=picker_id):
        raise NotHubStaffError(fields={"hub_code": hub.code})


def _job_for_picker(job_id: str, picker_id: int, *, lock: bool) -> PickJob:
    """The job, if the picker works at its hub. Another hub's job is 'not found' (no leak)."""
    try:
        pk = uuid.UUID(str(job_id))
    except ValueError:
        raise PickJobNotFoundError(fields={"job_id": job_id}) from None
    rows = PickJob.objects.select_related("hub")
    if lock:
        rows = rows.select_for_update(of=("self",))
    job = rows.filter(pk=pk).first()
    if job is None or job.hub.code not in hub_codes_for_picker(picker_id=picker_id):
        raise PickJobNotFoundError(fields={"job_id": str(job_id)})
    return job


def _require_own_job(job: PickJob, picker_id: int) -> None:
    if job.status != PickJobStatus.PICKING:
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
    existing = _job_id_for(order_ref)
    if existing:
        return existing
    _check_pick_list(lines, due_by)
    hub = hub_row(hub_code)
    reservation = _reservation_at(hub, reservation_id)
    stock_reservation_confirm(reservation_id=reservation_id)
    try:
        with transaction.atomic():
            job = PickJob.objects.create(
                order_ref=order_ref, hub=hub, reservation=reservation, due_by=due_by
            )
            PickJobLine.objects.bulk_create(_pick_list(job, lines))
    except IntegrityError:
        existing = _job_id_for(order_ref)
        if existing:  # a concurrent create for the same order won
            return existing
        raise
    return str(job.id)


def pick_jobs_existing(*, order_refs: Sequence[str]) -> set[str]:
    """Which of these orders have a pick job (whatever its status)."""
    return set(
        PickJob.objects.filter(order_ref__in=list(order_refs)).values_list("order_ref", flat=True)
    )


def pick_jobs_packed_between(*, since: datetime, until: datetime) -> list[str]:
    """The orders whose pick job was packed in this time (and not returned or cancelled
    since), oldest first."""
    return list(
        PickJob.objects.filter(
            status=PickJobStatus.PACKED, packed_at__gte=since, packed_at__lt=until
        )
        .order_by("packed_at")
        .values_list("order_ref", flat=True)
    )


def _job_id_for(order_ref: str) -> str | None:
    job_id = PickJob.objects.filter(order_ref=order_ref).values_list("id", flat=True).first()
    return str(job_id) if job_id else None


def _check_pick_list(lines: Sequence[PickLineSpec], due_by: datetime) -> None:
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


def _reservation_at(hub: Hub, reservation_id: str) -> Reservation:
    with transaction.atomic():
        reservation = lock_reservation(reservation_id)
    if reservation.hub_id != hub.pk:
        raise StockValidationError(
            "The reservation belongs to another hub.", fields={"reservation_id": reservation_id}
        )
    return reservation


def _pick_list(job: PickJob, lines: Sequence[PickLineSpec]) -> list[PickJobLine]:
    """The job's lines, with each product's (and substitute's) place on the shelf."""
    wanted = {line.sku for line in lines} | {ln.substitute_sku for ln in lines if ln.substitute_sku}
    shelf = {
        row.sku: row
        for row in Stock.objects.filter(hub=job.hub, sku__in=wanted).only(
            "sku", "product_id", "aisle", "bin"
        )
    }
    picks = []
    for line in lines:
        place = shelf.get(line.sku)
        substitute = shelf.get(line.substitute_sku or "")
        picks.append(
            PickJobLine(
                job=job,
                product_id=line.product_id,
                sku=line.sku,
                name=line.name[:300],
                quantity=line.quantity,
                aisle=place.aisle if place else "",
                bin=place.bin if place else "",
                substitute_sku=line.substitute_sku or "",
                substitute_product_id=substitute.product_id if substitute else None,
            )
        )
    return picks


def pick_job_get(*, order_ref: str) -> PickJobDTO:
    """The order's pick job; raises PickJobNotFoundError."""
    job = PickJob.objects.select_related("hub").filter(order_ref=order_ref).first()
    if job is None:
        raise PickJobNotFoundError(fields={"order_ref": order_ref})
    return job_dto(job)


def pick_job_cancel(*, order_ref: str, reason: str = "order cancelled") -> None:
    """Stop picking an order: its hold is released and picked goods go back on the shelf.
    Idempotent; an order without a pick job is a no-op."""
    with transaction.atomic():
        job = _locked_job(order_ref)
        if job is None or job.status in ENDED:
            return
        _give_back(job, reason)
        job.cancel(reason=reason)
        job.save()


def goods_return(*, order_ref: str, reason: str) -> None:
    """A delivery failed: the packed goods go back on the shelf. Idempotent. A job that was
    never packed is cancelled instead."""
    with transaction.atomic():
        job = _locked_job(order_ref)
        if job is None:
            raise PickJobNotFoundError(fields={"order_ref": order_ref})
        if job.status in ENDED:
            return
        _give_back(job, reason or "goods returned")
        if job.status == PickJobStatus.PACKED:
            job.goods_returned(reason=reason)
        else:
            job.cancel(reason=reason)
        job.save()


def substitute_return(*, order_ref: str, sku: str) -> bool:
    """The customer rejected the substitute on the line `sku`: it goes back on the shelf.
    Idempotent (True the first time only); a line without a substitute is a no-op."""
    with transaction.atomic():
        job = _locked_job(order_ref)
        if job is None:
            raise PickJobNotFoundError(fields={"order_ref": order_ref})
        line = PickJobLine.objects.select_for_update().filter(job=job, sku=sku).first()
        if line is None or not line.substitute_quantity or not line.substitute_product_id:
            return False
        if line.substitute_returned_at is not None or job.status in ENDED:
            return False  # already back (or the whole job went back)
        apply_moves(
            [
                Move(
                    _stock_id(job.hub, line.substitute_product_id),
                    line.substitute_product_id,
                    MovementKind.RETURNED,
                    on_hand_delta=line.substitute_quantity,
                    reason=f"substitute for {sku} rejected",
                    reference=order_ref,
                )
            ]
        )
        line.substitute_returned_at = timezone.now()
        line.save(update_fields=["substitute_returned_at"])
    return True


def _locked_job(order_ref: str) -> PickJob | None:
    return (
        PickJob.objects.select_for_update(of=("self",))
        .select_related("hub")
        .filter(order_ref=order_ref)
        .first()
    )


def _give_back(job: PickJob, reason: str) -> None:
    """Put picked units (and substitutes) back on the shelf and release any live hold."""
    taken = [
        (product_id, quantity)
        for line in job.lines.all()
        for product_id, quantity in (
            (line.product_id, line.picked_quantity),
            (
                line.substitute_product_id,
                0 if line.substitute_returned_at else line.substitute_quantity,
            ),
        )
        if product_id and quantity
    ]
    stock_ids = dict(
        Stock.objects.filter(hub=job.hub, product_id__in=[pid for pid, _ in taken]).values_list(
            "product_id", "pk"
        )
    )
    apply_moves(
        [
            Move(
                stock_ids[product_id],
                product_id,
                MovementKind.RETURNED,
                on_hand_delta=quantity,
                reason=reason,
                reference=job.order_ref,
            )
            for product_id, quantity in taken
            if product_id in stock_ids
        ]
    )
    reservation = _live_reservation(job)
    if reservation is not None:
        reservations_end([reservation], status=ReservationStatus.RELEASED, reason=reason)


def _live_reservation(job: PickJob) -> Reservation | None:
    """The job's reservation, row-locked, while it still holds stock."""
    if not job.reservation_id:
        return None
    reservation = Reservation.objects.select_for_update().get(pk=job.reservation_id)
    return reservation if reservation.is_live else None


# --- the picker's side -------------------------------------------------------------------------


def pick_jobs_for_picker(
    *, picker_id: int, status: PickJobStatus | None = None, limit: int = 50
) -> tuple[PickJobDTO, ...]:
    """Jobs at the picker's hubs (earliest due first); open ones unless `status` is given."""
    hubs = hub_codes_for_picker(picker_id=picker_id)
    statuses = [status] if status else [PickJobStatus.PENDING, PickJobStatus.PICKING]
    jobs = (
        PickJob.objects.select_related("hub")
        .filter(hub__code__in=hubs, status__in=statuses)
        .prefetch_related("lines")
        .order_by("due_by", "created_at")[: max(1, min(limit, 200))]
    )
    return tuple(job_dto(job) for job in jobs)


def pick_job_for_picker(*, job_id: str, picker_id: int) -> PickJobDTO:
    """One job at the picker's hubs (another hub's job is not found)."""
    return job_dto(_job_for_picker(job_id, picker_id, lock=False))


def pick_job_claim_next(*, hub_code: str, picker_id: int) -> PickJobDTO | None:
    """The picker's job in progress, else the earliest-due pending job at the hub
    (SKIP LOCKED: two pickers never get the same job). None when the queue is empty."""
    hub = hub_row(hub_code)
    _require_staff(hub, picker_id)
    current = (
        PickJob.objects.filter(hub=hub, status=PickJobStatus.PICKING, picker_id=picker_id)
        .select_related("hub")
        .order_by("claimed_at")
        .first()
    )
    if current is not None:
        return job_dto(current)
    with transaction.atomic():
        job = (
            PickJob.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("hub")
            .filter(hub=hub, status=PickJobStatus.PENDING)
            .order_by("due_by", "created_at")
            .first()
        )
        if job is None:
            return None
        job.claim(picker_id=picker_id)
        job.save(update_fields=["status", "picker", "claimed_at"])
        bus.publish(PickStarted(order_ref=job.order_ref, hub_code=hub.code))
    return job_dto(job)


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
        line = _pending_line(job, sku)
        _check_pick(line, picked_quantity, substitute_quantity)
        try:
            apply_moves(_pick_moves(job, line, picked_quantity, substitute_quantity))
        except MoveRefused as refused:
            raise InsufficientStockError(
                "The shelf count does not allow this pick; check the quantity or the substitute.",
                shortages=(
                    Shortage(refused.product_id, substitute_quantity or picked_quantity, 0),
                ),
            ) from None
        _record_pick(job, line, picked_quantity, substitute_quantity)
    return job_dto(job)


def _pending_line(job: PickJob, sku: str) -> PickJobLine:
    line = PickJobLine.objects.filter(job=job, sku=sku).first()
    if line is None:
        raise StockValidationError("This SKU is not on the pick list.", fields={"sku": sku})
    if line.status != PickLineStatus.PENDING:
        raise PickJobStateError("This line is already confirmed.", fields={"sku": sku})
    return line


def _check_pick(line: PickJobLine, picked: int, substitutes: int) -> None:
    if picked > line.quantity:
        raise StockValidationError(
            f"At most {line.quantity} of {line.sku} were ordered.",
            fields={"picked_quantity": picked},
        )
    if substitutes and not line.substitute_sku:
        raise StockValidationError(
            "The customer allowed no substitute for this line.",
            fields={"substitute_quantity": substitutes},
        )
    short = line.quantity - picked
    if substitutes > short:
        raise StockValidationError(
            f"At most {short} substitutes make up this short pick.",
            fields={"substitute_quantity": substitutes},
        )


def _pick_moves(job: PickJob, line: PickJobLine, picked: int, substitutes: int) -> list[Move]:
    """Picked units come out of the order's hold; what is left of the hold is released;
    picked beyond the hold and substitutes come out of available stock. The hold's line
    records what was committed and released."""
    held_line = _held_line(job, line.product_id)
    held = held_line.held if held_line else 0
    from_hold = min(picked, held)
    moves: list[Move] = []
    if picked or held:
        stock_id = held_line.stock_id if held_line else _stock_id(job.hub, line.product_id)
        if picked:
            moves.append(
                Move(
                    stock_id,
                    line.product_id,
                    MovementKind.PICKED,
                    on_hand_delta=-picked,
                    reserved_delta=-from_hold,
                    reference=job.order_ref,
                )
            )
        if held - from_hold:
            moves.append(
                Move(
                    stock_id,
                    line.product_id,
                    MovementKind.RELEASED,
                    reserved_delta=-(held - from_hold),
                    reason="short pick",
                    reference=job.order_ref,
                )
            )
    if substitutes:
        moves.append(_substitute_move(job, line, substitutes))
    if held_line:
        held_line.committed += from_hold
        held_line.released += held - from_hold
        held_line.save(update_fields=["committed", "released"])
    return moves


def _held_line(job: PickJob, product_id: int) -> ReservationLine | None:
    """The order's hold on this product (its reservation row-locked), if it has one."""
    if not job.reservation_id:
        return None
    reservation = Reservation.objects.select_for_update().get(pk=job.reservation_id)
    if not reservation.is_live:
        raise ReservationExpiredError(fields={"reservation": reservation.status})
    # One line per product in a reservation: no ORDER BY (first() would sort by id, and
    # PostgreSQL may then walk the primary key instead of the reservation's index).
    return next(
        iter(
            ReservationLine.objects.filter(
                reservation=reservation, product_id=product_id
            ).order_by()[:1]
        ),
        None,
    )


def _substitute_move(job: PickJob, line: PickJobLine, substitutes: int) -> Move:
    if not line.substitute_product_id:
        raise InsufficientStockError(
            "The substitute is not stocked at this hub.",
            shortages=(Shortage(0, substitutes, 0),),
        )
    return Move(
        _stock_id(job.hub, line.substitute_product_id),
        line.substitute_product_id,
        MovementKind.PICKED,
        on_hand_delta=-substitutes,
        reason=f"substitute for {line.sku}",
        reference=job.order_ref,
    )


def _stock_id(hub: Hub, product_id: int) -> int:
    found = (
        Stock.objects.filter(hub=hub, product_id=product_id).values_list("pk", flat=True).first()
    )
    if found is None:
        raise InsufficientStockError(shortages=(Shortage(product_id, 1, 0),))
    return found


def _record_pick(job: PickJob, line: PickJobLine, picked: int, substitutes: int) -> None:
    now = timezone.now()
    line.picked_quantity = picked
    line.substitute_quantity = substitutes
    line.confirmed_at = now
    if picked == line.quantity:
        line.status = PickLineStatus.PICKED
    elif substitutes:
        line.status = PickLineStatus.SUBSTITUTED
    elif picked:
        line.status = PickLineStatus.SHORT
    else:
        line.status = PickLineStatus.MISSING
    line.save(update_fields=["picked_quantity", "substitute_quantity", "confirmed_at", "status"])
    pick_lines.labels(outcome=line.status).inc()
    if not job.lines.filter(status=PickLineStatus.PENDING).exists():
        job.picked_at = now
        job.save(update_fields=["picked_at"])


def pick_job_pack(*, job_id: str, picker_id: int, bags: int) -> PickJobDTO:
    """Every line confirmed: bag it and finish. Publishes OrderPacked."""
    if not isinstance(bags, int) or isinstance(bags, bool) or not 1 <= bags <= MAX_BAGS:
        raise StockValidationError(f"Bags: 1 to {MAX_BAGS}.", fields={"bags": bags})
    with transaction.atomic():
        job = _job_for_picker(job_id, picker_id, lock=True)
        _require_own_job(job, picker_id)
        lines = _walking_order(job.lines.all())
        pending = [line.sku for line in lines if line.status == PickLineStatus.PENDING]
        if pending:
            raise PickJobStateError(
                "Confirm every line before packing.", fields={"pending_skus": pending}
            )
        reservation = _live_reservation(job)
        if reservation is not None:  # anything held but not on the pick list goes back
            reservations_end([reservation], status=ReservationStatus.COMMITTED, reason="picked")
        job.pack(bags=bags)
        job.picked_at = job.picked_at or job.packed_at
        job.save()
        if job.packed_at is not None:
            placed_to_packed.observe((job.packed_at - job.created_at).total_seconds())
        bus.publish(
            OrderPacked(
                order_ref=job.order_ref,
                hub_code=job.hub.code,
                bags=bags,
                lines=tuple(_packed_line(line) for line in lines),
            )
        )
    return job_dto(job, lines)


def _packed_line(line: PickJobLine) -> PackedLine:
    return PackedLine(
        sku=line.sku,
        ordered_quantity=line.quantity,
        picked_quantity=line.picked_quantity or 0,
        substitute_sku=line.substitute_sku if line.substitute_quantity else "",
        substitute_quantity=line.substitute_quantity,
    )
