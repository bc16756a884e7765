"""What an order's status changes do to its payment: capture on delivery, void on cancellation
or failed delivery, refund, and release part of the hold after a short pick. Each call to the
provider that succeeds is written to the payment's ledger (PaymentOperation)."""

from collections.abc import Callable
from decimal import Decimal

from prime_now.kernel.money import Money

from ..models import Order, Payment, PaymentOperation, PaymentOperationKind
from ..payments import PaymentProvider, ProviderRefused, ProviderUnavailable, provider_get
from ..statuses import PaymentStatus
from .dtos import IllegalTransitionError, PaymentUnavailableError


def payment_locked(order: Order) -> Payment:
    return Payment.objects.select_for_update().get(order=order)


def _minor(payment: Payment, amount: Decimal) -> int:
    return Money(amount, payment.currency).to_minor()


def _at_provider(
    payment: Payment, action: str, call: Callable[[PaymentProvider, str], None]
) -> None:
    """Make one call to the payment's provider, its errors as the door's errors."""
    try:
        call(provider_get(payment.provider), payment.reference)
    except ProviderUnavailable as exc:
        raise PaymentUnavailableError() from exc
    except ProviderRefused as exc:
        raise IllegalTransitionError(
            f"The payment processor refused to {action}: {exc}", code="payment_refused"
        ) from exc


def _record(payment: Payment, kind: PaymentOperationKind, amount: Decimal) -> None:
    PaymentOperation.objects.create(payment=payment, kind=kind, amount=amount)


def capture(order: Order) -> None:
    """Take the order total (the picked amount, after any short-pick adjustment)."""
    payment = payment_locked(order)
    amount, minor = order.total, _minor(payment, order.total)
    _at_provider(payment, "capture", lambda p, ref: p.capture(reference=ref, amount_minor=minor))
    payment.captured_amount = amount
    payment.status = PaymentStatus.CAPTURED
    payment.save(update_fields=["captured_amount", "status", "updated_at"])
    _record(payment, PaymentOperationKind.CAPTURE, amount)


def void(order: Order) -> None:
    """Release the whole hold (nothing is charged). Voiding twice is a no-op."""
    payment = payment_locked(order)
    if payment.status == PaymentStatus.VOIDED:
        return
    _at_provider(payment, "void", lambda p, ref: p.void(reference=ref))
    payment.status = PaymentStatus.VOIDED
    payment.save(update_fields=["status", "updated_at"])
    _record(payment, PaymentOperationKind.VOID, payment.authorized_amount)


def refund_all(order: Order) -> None:
    """Give back whatever of the captured amount is not refunded yet."""
    payment = payment_locked(order)
    amount = payment.captured_amount - payment.refunded_amount
    if amount > 0:
        minor = _minor(payment, amount)
        _at_provider(payment, "refund", lambda p, ref: p.refund(reference=ref, amount_minor=minor))
    payment.refunded_amount = payment.captured_amount
    payment.status = PaymentStatus.REFUNDED
    payment.save(update_fields=["refunded_amount", "status", "updated_at"])
    _record(payment, PaymentOperationKind.REFUND, amount)


def reduce_to_total(order: Order) -> tuple[Payment, Decimal]:
    """Release the part of the hold above the order's (new) total: the payment and the
    amount released (0 when nothing was above it)."""
    payment = payment_locked(order)
    released = payment.authorized_amount - order.total
    if released > 0:
        minor = _minor(payment, released)
        _at_provider(payment, "reduce", lambda p, ref: p.reduce(reference=ref, amount_minor=minor))
        payment.authorized_amount = order.total
        payment.save(update_fields=["authorized_amount", "updated_at"])
        _record(payment, PaymentOperationKind.REDUCE, released)
    return payment, released


def refund_part(order: Order, amount: Decimal) -> Decimal:
    """Give back `amount` of the captured total (capped at what is not refunded yet); the
    payment is "refunded" once nothing is left. Returns what was refunded."""
    payment = payment_locked(order)
    amount = min(amount, payment.captured_amount - payment.refunded_amount)
    if amount <= 0:
        return Decimal("0.00")
    minor = _minor(payment, amount)
    _at_provider(payment, "refund", lambda p, ref: p.refund(reference=ref, amount_minor=minor))
    payment.refunded_amount += amount
    if payment.refunded_amount == payment.captured_amount:
        payment.status = PaymentStatus.REFUNDED
    payment.save(update_fields=["refunded_amount", "status", "updated_at"])
    _record(payment, PaymentOperationKind.REFUND, amount)
    return amount
