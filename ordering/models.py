"""Ordering's tables: carts, orders (with an explicit state machine), payments.

Products are known by catalog id + SKU (plain values, no foreign key) with a snapshot of the
name and price; the customer is the one cross-app foreign key (identity is platform-wide).
The order status is a protected django-fsm field: only the transition methods below change
it, and only ordering's services call them (each one writes a timeline row).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from prime_now.kernel.money import MoneyField

from .statuses import (
    CANCELLABLE,
    OrderStatus,
    PaymentStatus,
    ProblemKind,
    ProblemStatus,
    SubstituteDecision,
    SubstitutionChoice,
)

ZERO = Decimal("0.00")


# --- Carts ------------------------------------------------------------------------------------


class Cart(models.Model):
    """A customer's basket: a user's (API, signed-in web) or a browser session's (guest web)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="ordering_cart",
    )
    session_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(session_key__isnull=True))
                | (Q(user__isnull=True) & Q(session_key__isnull=False)),
                name="ordering_cart_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"cart of user {self.user_id}" if self.user_id else f"guest cart {self.pk}"


class CartLine(models.Model):
    """One SKU in a cart. Name and price are what the customer last saw (the snapshot); the
    live catalog price is shown beside it and a difference is flagged, never charged silently."""

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    product_id = models.BigIntegerField()
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=300)
    unit_price = MoneyField()
    quantity = models.PositiveIntegerField()
    substitution = models.CharField(
        max_length=20,
        choices=SubstitutionChoice.choices,
        default=SubstitutionChoice.BEST_MATCH,
        db_default=SubstitutionChoice.BEST_MATCH,
    )
    substitute_sku = models.CharField(max_length=64, blank=True, db_default="")  # their own pick
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(substitution__in=SubstitutionChoice.values)
                & (
                    Q(substitution=SubstitutionChoice.SPECIFIC, substitute_sku__gt="")
                    | (~Q(substitution=SubstitutionChoice.SPECIFIC) & Q(substitute_sku=""))
                ),
                name="ordering_cartline_substitute_named_when_specific",
            ),
            models.UniqueConstraint(fields=["cart", "sku"], name="ordering_cartline_sku_once"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="ordering_cartline_qty_pos"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="ordering_cartline_price_nonneg"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


# --- Orders -----------------------------------------------------------------------------------


S = OrderStatus


class Order(ConcurrentTransitionMixin, models.Model):
    number = models.CharField(max_length=16, unique=True)
    # Indexed by ordering_order_mine (customer, -placed_at).
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="ordering_orders",
        db_index=False,
    )
    status = FSMField(
        max_length=20, choices=OrderStatus.choices, default=S.PLACED, protected=True, db_index=True
    )
    idempotency_key = models.CharField(max_length=128)
    request_fingerprint = models.CharField(max_length=64)
    # A partner's order (placed with its API key, for its customer): the key's prefix.
    partner_key = models.CharField(max_length=8, blank=True, default="", db_default="")

    currency = models.CharField(max_length=3)
    # subtotal follows the lines: ordered amounts at placement, picked amounts after picking.
    subtotal = MoneyField()
    delivery_fee = MoneyField()
    tip = MoneyField()
    total = MoneyField()

    # The delivery snapshot the façade passed in (delivery's ids as plain values).
    address = models.TextField()
    postcode = models.CharField(max_length=16)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    hub_code = models.CharField(max_length=32, db_index=True)
    window_id = models.BigIntegerField()
    window_start = models.DateTimeField(db_index=True)
    window_end = models.DateTimeField()
    window_kind = models.CharField(max_length=20)

    placed_at = models.DateTimeField(default=timezone.now, db_index=True)
    picked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"], name="ordering_order_idempotency_once"
            ),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0)
                & Q(delivery_fee__gte=0)
                & Q(tip__gte=0)
                & Q(total=F("subtotal") + F("delivery_fee") + F("tip")),
                name="ordering_order_total_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(window_end__gt=F("window_start")), name="ordering_order_window_order"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="ordering_order_status_known"
            ),
        ]
        indexes = [models.Index(fields=["customer", "-placed_at"], name="ordering_order_mine")]

    def __str__(self) -> str:
        return self.number

    # Transitions: state only. Side effects (payment, timeline, events) live in the services.
    @transition(field=status, source=S.PLACED, target=S.PICKING)
    def start_picking(self) -> None:
        pass

    @transition(field=status, source=S.PICKING, target=S.PACKED)
    def pack(self) -> None:
        pass

    @transition(field=status, source=S.PACKED, target=S.OUT_FOR_DELIVERY)
    def send_out(self) -> None:
        pass

    @transition(field=status, source=S.OUT_FOR_DELIVERY, target=S.DELIVERED)
    def deliver(self) -> None:
        pass

    @transition(field=status, source=[S.PACKED, S.OUT_FOR_DELIVERY], target=S.DELIVERY_FAILED)
    def fail_delivery(self) -> None:
        pass

    @transition(field=status, source=list(CANCELLABLE), target=S.CANCELLED)
    def cancel(self) -> None:
        pass

    @transition(field=status, source=S.DELIVERED, target=S.REFUNDED)
    def refund(self) -> None:
        pass


class OrderLine(models.Model):
    """What was ordered (a snapshot that never follows the catalog) and, after picking, what
    was picked and what stood in for it."""

    # Indexed by ordering_orderline_sku_once (order, sku).
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_index=False)
    position = models.PositiveSmallIntegerField()
    product_id = models.BigIntegerField()
    sku = models.CharField(max_length=64, db_index=True)
    name = models.CharField(max_length=300)
    unit_price = MoneyField()
    quantity = models.PositiveIntegerField()
    picked_quantity = models.PositiveIntegerField(null=True, blank=True)
    substitute_product_id = models.BigIntegerField(null=True, blank=True)
    substitute_sku = models.CharField(max_length=64, blank=True)
    substitute_name = models.CharField(max_length=300, blank=True)
    substitute_unit_price = MoneyField(null=True, blank=True)
    substitute_quantity = models.PositiveIntegerField(default=0)
    # What the customer allowed (the substitute the hub may use, "" for none) and what they
    # said of the one picked ("" until a substitute is picked).
    substitution = models.CharField(
        max_length=20,
        choices=SubstitutionChoice.choices,
        default=SubstitutionChoice.BEST_MATCH,
        db_default=SubstitutionChoice.BEST_MATCH,
    )
    allowed_substitute_sku = models.CharField(max_length=64, blank=True, db_default="")
    substitute_decision = models.CharField(
        max_length=20, choices=SubstituteDecision.choices, blank=True, db_default=""
    )
    line_total = MoneyField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(substitute_quantity=0) & Q(substitute_decision=""))
                | (
                    Q(substitute_quantity__gt=0)
                    & Q(substitute_decision__in=SubstituteDecision.values)
                ),
                name="ordering_orderline_substitute_decided_once_picked",
            ),
            models.CheckConstraint(
                condition=Q(substitution__in=SubstitutionChoice.values)
                & (~Q(substitution=SubstitutionChoice.NONE) | Q(allowed_substitute_sku=""))
                & (~Q(substitution=SubstitutionChoice.SPECIFIC) | Q(allowed_substitute_sku__gt="")),
                name="ordering_orderline_substitute_allowed_matches_choice",
            ),
            models.UniqueConstraint(fields=["order", "sku"], name="ordering_orderline_sku_once"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="ordering_orderline_qty_pos"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0) & Q(line_total__gte=0),
                name="ordering_orderline_money_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(picked_quantity__isnull=True)
                | Q(picked_quantity__lte=F("quantity") - F("substitute_quantity")),
                name="ordering_orderline_picked_within_ordered",
            ),
            models.CheckConstraint(
                condition=Q(substitute_quantity=0)
                | (~Q(substitute_sku="") & Q(substitute_unit_price__isnull=False)),
                name="ordering_orderline_substitute_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"

    @property
    def charged_substitutes(self) -> int:
        """Substitutes the customer pays for: all but the ones they rejected."""
        rejected = self.substitute_decision == SubstituteDecision.REJECTED
        return 0 if rejected else self.substitute_quantity

    @property
    def missing_quantity(self) -> int:
        if self.picked_quantity is None:
            return 0
        return self.quantity - self.picked_quantity - self.charged_substitutes


class OrderTimelineEntry(models.Model):
    """One row per status change: when, who (a user or a system part) and why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="timeline")
    from_status = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, choices=OrderStatus.choices)
    at = models.DateTimeField(default=timezone.now)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.CharField(max_length=150)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "order timeline"

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status or '-'} -> {self.status}"


class ProblemReport(models.Model):
    """A customer's report of a missing, damaged or wrong item after delivery, and its refund:
    small amounts are refunded at once, larger ones wait for support (the admin's queue)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="problems")
    sku = models.CharField(max_length=64)  # the order line
    kind = models.CharField(max_length=20, choices=ProblemKind.choices)
    quantity = models.PositiveIntegerField()
    note = models.CharField(max_length=500, blank=True)
    amount = MoneyField()  # what refunding it gives back
    status = models.CharField(max_length=20, choices=ProblemStatus.choices)
    reported_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    support_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-reported_at", "-id"]
        constraints = [
            # One report per line: a second would refund the same units twice.
            models.UniqueConstraint(fields=["order", "sku"], name="ordering_problem_once_per_line"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="ordering_problem_qty_pos"),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="ordering_problem_amount_nonneg"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ProblemKind.values) & Q(status__in=ProblemStatus.values),
                name="ordering_problem_kind_and_status_known",
            ),
        ]
        indexes = [models.Index(fields=["status", "reported_at"], name="ordering_problem_queue")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.sku}: {self.kind} x{self.quantity} ({self.status})"


# --- Payments ---------------------------------------------------------------------------------


class Payment(models.Model):
    """The order's payment at the provider. Never a card number: only the provider's reference."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="payment")
    provider = models.CharField(max_length=40)
    reference = models.CharField(max_length=128)
    card_brand = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, choices=PaymentStatus.choices)
    currency = models.CharField(max_length=3)
    authorized_amount = MoneyField()
    captured_amount = MoneyField(default=ZERO)
    refunded_amount = MoneyField(default=ZERO)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "reference"], name="ordering_payment_reference_once"
            ),
            models.CheckConstraint(
                condition=Q(authorized_amount__gte=0)
                & Q(captured_amount__gte=0)
                & Q(captured_amount__lte=F("authorized_amount"))
                & Q(refunded_amount__gte=0)
                & Q(refunded_amount__lte=F("captured_amount")),
                name="ordering_payment_amounts_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.reference} ({self.status})"


class PaymentOperationKind(models.TextChoices):
    AUTHORIZE = "authorize", "Authorize"
    REDUCE = "reduce", "Reduce authorization (short pick)"
    CAPTURE = "capture", "Capture"
    VOID = "void", "Void"
    REFUND = "refund", "Refund"


class PaymentOperation(models.Model):
    """The payment's ledger: every call made to the provider that succeeded."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="operations")
    kind = models.CharField(max_length=20, choices=PaymentOperationKind.choices)
    amount = MoneyField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="ordering_payop_amount_nonneg")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class SandboxAuthorization(models.Model):
    """The built-in sandbox provider's own ledger (what a processor keeps on its side), so the
    sandbox refuses what a real processor refuses: capturing more than is authorized,
    refunding more than was captured, capturing a voided authorization."""

    reference = models.CharField(max_length=64, unique=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    brand = models.CharField(max_length=20)
    currency = models.CharField(max_length=3)
    authorized_minor = models.BigIntegerField()
    captured_minor = models.BigIntegerField(default=0)
    refunded_minor = models.BigIntegerField(default=0)
    status = models.CharField(max_length=20, default="authorized")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(authorized_minor__gte=0)
                & Q(captured_minor__gte=0)
                & Q(captured_minor__lte=F("authorized_minor"))
                & Q(refunded_minor__gte=0)
                & Q(refunded_minor__lte=F("captured_minor")),
                name="ordering_sandbox_amounts_consistent",
            )
        ]

    def __str__(self) -> str:
        return self.reference
