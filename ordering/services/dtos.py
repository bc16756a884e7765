"""The values and errors that cross ordering's door (re-exported by ordering.services)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from prime_now.kernel.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    UnavailableError,
    ValidationError,
)

from ..statuses import OrderStatus, PaymentStatus, SubstituteDecision, SubstitutionChoice

# --- Baskets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BasketLimits:
    """How much one basket may hold: a cart, a checkout and an order alike. Ordering owns the
    rule; every form and serializer that takes a basket reads it here (BASKET_LIMITS)."""

    max_lines: int  # different products
    max_line_quantity: int  # units of one product


BASKET_LIMITS = BasketLimits(max_lines=50, max_line_quantity=20)


# --- Carts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CartOwner:
    """Exactly one of the two: a signed-in user, or a guest's browser session.

    For the web, pass a stable opaque value kept in the session data (login cycles
    Django's session key but keeps the data), then call cart_merge on sign-in."""

    user_id: int | None = None
    session_key: str | None = None

    def __post_init__(self) -> None:
        if (self.user_id is None) == (not self.session_key):
            raise ValueError("CartOwner needs exactly one of user_id or session_key")


@dataclass(frozen=True)
class CartLineDTO:
    """One product in a cart."""

    product_id: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal  # live catalog price (the snapshot when the product is unavailable)
    line_total: Decimal  # 0 when unavailable
    available: bool
    price_when_added: Decimal = Decimal("0.00")  # what the customer last saw
    price_changed: bool = False
    substitution: SubstitutionChoice = SubstitutionChoice.BEST_MATCH
    substitute_sku: str = ""  # the customer's own pick (SPECIFIC)


@dataclass(frozen=True)
class CartDTO:
    """A cart as shown: its lines at live prices, their subtotal, and the basket limits."""

    lines: tuple[CartLineDTO, ...]
    subtotal: Decimal  # available lines at live prices
    currency: str
    item_count: int  # units on available lines
    has_price_changes: bool = False
    has_unavailable: bool = False
    notices: tuple[str, ...] = ()  # e.g. what a merge had to cap
    max_line_quantity: int = 0
    max_lines: int = 0


# --- Orders -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLineInput:
    """One line of an order to place, priced by the caller (the façade, from catalog)."""

    product_id: int
    sku: str
    name: str
    unit_price: Decimal
    quantity: int
    # BEST_MATCH: the picker may choose (allowed_substitute_sku is a suggestion, or "");
    # SPECIFIC: only allowed_substitute_sku; NONE: nothing stands in.
    substitution: SubstitutionChoice = SubstitutionChoice.BEST_MATCH
    allowed_substitute_sku: str = ""


@dataclass(frozen=True)
class DeliverySnapshot:
    """Where and when the order is delivered, as the façade gave it; the order keeps it."""

    address: str
    postcode: str
    lat: float | None
    lon: float | None
    hub_code: str
    window_id: int
    window_start: datetime
    window_end: datetime
    window_kind: str


@dataclass(frozen=True)
class PickedLineInput:
    """What the picker found for one order line: picked, and what stood in for it."""

    sku: str
    picked_quantity: int
    substitute_sku: str | None = None
    substitute_quantity: int = 0


@dataclass(frozen=True)
class OrderLineDTO:
    """One ordered product as sold and, after picking, as picked, substituted or missing."""

    sku: str
    name: str
    unit_price: Decimal
    quantity: int
    picked_quantity: int | None  # None until picked
    substitute_sku: str
    substitute_name: str
    substitute_unit_price: Decimal | None
    missing: bool
    line_total: Decimal
    product_id: int = 0
    substitute_quantity: int = 0
    missing_quantity: int = 0
    substitution: SubstitutionChoice = SubstitutionChoice.BEST_MATCH
    allowed_substitute_sku: str = ""
    substitute_decision: SubstituteDecision | None = None  # None until a substitute is picked


@dataclass(frozen=True)
class TimelineEntryDTO:
    """One status change of an order: to what, when, who ("system", "customer:ann"), why."""

    status: OrderStatus
    at: datetime
    actor: str
    reason: str


@dataclass(frozen=True)
class OrderDTO:
    """An order as its door shows it: lines, totals, delivery, payment and timeline."""

    number: str
    customer_id: int
    status: OrderStatus
    lines: tuple[OrderLineDTO, ...]
    subtotal: Decimal
    delivery_fee: Decimal
    tip: Decimal
    total: Decimal
    currency: str
    delivery: DeliverySnapshot
    placed_at: datetime
    payment_status: PaymentStatus
    timeline: tuple[TimelineEntryDTO, ...]
    cancellable: bool = False
    amount_authorized: Decimal = Decimal("0.00")
    amount_captured: Decimal = Decimal("0.00")
    amount_refunded: Decimal = Decimal("0.00")
    card_brand: str = ""
    payment_reference: str = ""  # the provider's reference of the authorization
    partner_key: str = ""  # the prefix of the partner API key that placed it, if one did


# --- Errors -----------------------------------------------------------------------------------


class CartLimitError(ValidationError):
    """More than a basket holds (BASKET_LIMITS), or a quantity below what is allowed."""

    code = "cart_limit"
    default_message = "That is more than a cart can hold."


class CartLineNotFoundError(NotFoundError):
    """The product is not in the cart."""

    code = "not_in_cart"
    default_message = "That product is not in your cart."


class ProductUnavailableError(ApplicationError):
    """The product is unknown to catalog or no longer sold."""

    code = "product_unavailable"
    status = 422
    default_message = "This product is not available."


class PaymentDeclinedError(ApplicationError):
    """code "payment_declined" (fields.reason says why) or "insufficient_funds"."""

    code = "payment_declined"
    status = 402
    default_message = "Your card was declined. Please use another card."


class PaymentUnavailableError(UnavailableError):
    """The payment processor could not be reached: try again later."""

    code = "payment_unavailable"
    default_message = "We could not reach the payment processor. Please try again shortly."


class IdempotencyKeyReusedError(ApplicationError):
    """The key placed an order (or a checkout) with other details: the one such error
    in the project."""

    code = "idempotency_key_reused"
    status = 422
    default_message = "This idempotency key was already used for a different order."


class OrderNotFoundError(NotFoundError):
    """No such order, or not this customer's (the same answer: nothing leaks)."""

    code = "order_not_found"
    default_message = "Order not found."


class IllegalTransitionError(ConflictError):
    """The order's status does not allow this change now (or the processor refused it:
    code "payment_refused")."""

    code = "illegal_transition"
    default_message = "The order cannot change to that status now."


class SubstitutionChoiceError(ApplicationError):
    """The substitute chosen cannot stand in for the item (unknown, not sold, itself)."""

    code = "invalid_substitute"
    status = 422
    default_message = "That product cannot be your substitute."


class SubstituteDecisionError(ConflictError):
    """The substitute cannot be accepted or rejected now: none was proposed on that line, it
    was already answered otherwise, or the courier has left the hub (code "courier_left")."""

    code = "substitute_not_open"
    default_message = "This substitute can no longer be changed."


class ProblemReportError(ApplicationError):
    """The problem cannot be reported: code "not_delivered", "too_late" (past 48 h),
    "already_reported", or "invalid_problem" (not a line received, or too many units)."""

    code = "invalid_problem"
    status = 422
    default_message = "That problem cannot be reported."


class PickAdjustmentError(ValidationError):
    """The picks do not match the order's lines (fields name each line and why)."""

    code = "invalid_pick"
    default_message = "The picked lines do not match the order."
