"""Problems with a delivered order: the customer reports a missing, damaged or wrong item within
48 hours of delivery. Up to ORDERING_AUTO_REFUND_LIMIT it is refunded at once through the
payment (a partial refund); above it the report waits for support, who refund or reject it
in the admin. Every report and refund is on the order's timeline; a refund publishes
OrderRefunded."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from prime_now.kernel import bus

from ..events import OrderRefunded
from ..models import Order, OrderLine, ProblemReport
from ..statuses import OrderStatus, ProblemKind, ProblemStatus, SubstituteDecision
from . import charges, conf
from .dtos import IllegalTransitionError, OrderNotFoundError, ProblemReportError
from .orders import order_locked
from .transitions import actor_for, timeline_add

REPORT_WITHIN = timedelta(hours=48)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ProblemDTO:
    """A reported problem with one delivered line, and what became of it."""

    id: int
    order_number: str
    sku: str
    name: str
    kind: ProblemKind
    quantity: int
    note: str
    amount: Decimal
    status: ProblemStatus
    reported_at: datetime
    decided_at: datetime | None


def _dto(report: ProblemReport, line_name: str) -> ProblemDTO:
    return ProblemDTO(
        id=report.pk,
        order_number=report.order.number,
        sku=report.sku,
        name=line_name,
        kind=ProblemKind(report.kind),
        quantity=report.quantity,
        note=report.note,
        amount=report.amount,
        status=ProblemStatus(report.status),
        reported_at=report.reported_at,
        decided_at=report.decided_at,
    )


def delivered_at(order: Order) -> datetime | None:
    entry = order.timeline.filter(status=OrderStatus.DELIVERED).order_by("at").first()
    return entry.at if entry else None


def _received(line: OrderLine) -> int:
    """Units the customer received on this line: the item itself and kept substitutes."""
    kept = line.substitute_decision != SubstituteDecision.REJECTED
    return (line.picked_quantity or 0) + (line.substitute_quantity if kept else 0)


def problem_report(
    *,
    number: str,
    customer_id: int,
    sku: str,
    kind: ProblemKind,
    quantity: int,
    note: str = "",
    now: datetime | None = None,
) -> ProblemDTO:
    """Report a problem with `quantity` units of the delivered line `sku`. Refunded at once
    up to the auto-refund limit, else queued for support. ProblemReportError: not delivered,
    past 48 h, not a line received, more units than received, or already reported."""
    now = now or timezone.now()
    kind = ProblemKind(kind)
    with transaction.atomic():
        order = order_locked(number, customer_id)
        line = _check(order, sku, quantity, now)
        per_unit = line.line_total / _received(line)
        amount = (per_unit * quantity).quantize(CENT, rounding=ROUND_HALF_UP)
        try:
            with transaction.atomic():
                report = ProblemReport.objects.create(
                    order=order,
                    sku=sku,
                    kind=kind,
                    quantity=quantity,
                    note=note.strip()[:500],
                    amount=amount,
                    status=ProblemStatus.AWAITING_SUPPORT,
                    reported_at=now,
                )
        except IntegrityError:
            raise ProblemReportError(
                "You already reported a problem with this item; support will answer it.",
                code="already_reported",
                fields={"sku": sku},
            ) from None
        actor = actor_for(customer_id, "customer")
        said = f"{quantity} × {line.name} reported {kind.label.lower()}"
        if amount <= conf.auto_refund_limit():
            _refund(order, report, line.name, reason=f"{said}: refunded at once")
        else:
            timeline_add(
                order, order.status, reason=f"{said}: sent to support ({amount})", actor=actor
            )
    return _dto(report, line.name)


def _check(order: Order, sku: str, quantity: int, now: datetime) -> OrderLine:
    if order.status != OrderStatus.DELIVERED:
        raise ProblemReportError(
            "Problems can be reported once the order is delivered.",
            code="not_delivered",
            fields={"status": order.status},
        )
    at = delivered_at(order)
    if at is None or now - at > REPORT_WITHIN:
        raise ProblemReportError(
            "Problems can be reported within 48 hours of delivery; please contact support.",
            code="too_late",
            fields={"delivered_at": at.isoformat() if at else None},
        )
    line = order.lines.filter(sku=sku).first()
    received = _received(line) if line else 0
    if line is None or received == 0:
        raise ProblemReportError(
            "That item was not delivered with this order.", fields={"sku": sku}
        )
    if not isinstance(quantity, int) or not 1 <= quantity <= received:
        raise ProblemReportError(
            f"Report between 1 and {received} of this item.", fields={"quantity": quantity}
        )
    return line


def _refund(order: Order, report: ProblemReport, name: str, *, reason: str) -> None:
    refunded = charges.refund_part(order, report.amount)
    report.amount = refunded
    report.status = ProblemStatus.REFUNDED
    report.decided_at = timezone.now()
    report.save(update_fields=["amount", "status", "decided_at", "decided_by"])
    timeline_add(order, order.status, reason=f"{reason}: {refunded} {order.currency} refunded.")
    bus.publish(
        OrderRefunded(
            order_number=order.number,
            customer_id=order.customer_id,
            amount=refunded,
            problem_id=report.pk,
            sku=report.sku,
        )
    )


def problem_decide(
    *, problem_id: int, refund: bool, actor_id: int | None, note: str = ""
) -> ProblemDTO:
    """Support's answer to a report waiting for them: refund it (through the payment) or
    reject it. IllegalTransitionError when it is already decided."""
    with transaction.atomic():
        report = ProblemReport.objects.select_related("order").filter(pk=problem_id).first()
        if report is None:
            raise OrderNotFoundError(f"No problem report {problem_id}.")
        order = order_locked(report.order.number)
        report = ProblemReport.objects.select_for_update().get(pk=problem_id)
        if report.status != ProblemStatus.AWAITING_SUPPORT:
            raise IllegalTransitionError(
                f"This report is already {report.get_status_display().lower()}.",
                fields={"status": report.status},
            )
        name = order.lines.filter(sku=report.sku).values_list("name", flat=True).first() or ""
        report.decided_by_id = actor_id
        report.support_note = note.strip()[:500]
        said = f"{report.quantity} × {name} ({report.get_kind_display().lower()})"
        if refund:
            report.save(update_fields=["decided_by", "support_note"])
            _refund(order, report, name, reason=f"{said}: refund approved by support")
        else:
            report.status = ProblemStatus.REJECTED
            report.decided_at = timezone.now()
            report.save(update_fields=["status", "decided_at", "decided_by", "support_note"])
            timeline_add(
                order,
                order.status,
                reason=f"{said}: not refunded by support{': ' + note if note else ''}.",
                actor=actor_for(actor_id, "operator"),
            )
    return _dto(report, name)


def problems_for_order(*, number: str, customer_id: int | None = None) -> tuple[ProblemDTO, ...]:
    """The problems reported on the order (with customer_id: only on their own order)."""
    rows = ProblemReport.objects.select_related("order").filter(order__number=number.upper())
    if customer_id is not None:
        rows = rows.filter(order__customer_id=customer_id)
    names = dict(OrderLine.objects.filter(order__number=number.upper()).values_list("sku", "name"))
    return tuple(_dto(row, names.get(row.sku, "")) for row in rows)


def problem_window_open(*, number: str, now: datetime | None = None) -> bool:
    """The customer may still report a problem with this delivered order."""
    order = Order.objects.filter(number=number.upper()).first()
    if order is None or order.status != OrderStatus.DELIVERED:
        return False
    at = delivered_at(order)
    return at is not None and (now or timezone.now()) - at <= REPORT_WITHIN
