"""Operators' admin: orders are read-only here; cancel and refund go through the services."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.html import format_html_join

from prime_now.kernel.errors import ApplicationError

from . import services
from .models import (
    Cart,
    CartLine,
    Order,
    OrderLine,
    OrderTimelineEntry,
    Payment,
    ProblemReport,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = (
        "sku",
        "name",
        "unit_price",
        "quantity",
        "substitution",
        "allowed_substitute_sku",
        "picked_quantity",
        "substitute_sku",
        "substitute_unit_price",
        "substitute_quantity",
        "substitute_decision",
        "line_total",
    )
    readonly_fields = fields


class TimelineInline(ReadOnlyInline):
    model = OrderTimelineEntry
    fields = ("at", "from_status", "status", "actor", "reason")
    readonly_fields = fields


class PaymentInline(admin.StackedInline):
    model = Payment
    can_delete = False
    fields = (
        "provider",
        "reference",
        "card_brand",
        "status",
        "authorized_amount",
        "captured_amount",
        "refunded_amount",
        "ledger",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="provider calls")
    def ledger(self, payment: Payment) -> str:
        return format_html_join(
            "",
            "<div>{} · {} {} {}</div>",
            (
                (op.at.strftime("%Y-%m-%d %H:%M:%S"), op.kind, op.amount, payment.currency)
                for op in payment.operations.all()
            ),
        )


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "customer",
        "status",
        "total",
        "hub_code",
        "window_start",
        "window_kind",
        "placed_at",
    )
    list_filter = (
        "status",
        "hub_code",
        "window_kind",
        ("window_start", admin.DateFieldListFilter),
        ("placed_at", admin.DateFieldListFilter),
    )
    search_fields = (
        "number",
        "customer__username",
        "customer__email",
        "idempotency_key",
        "partner_key",
    )
    list_select_related = ("customer",)
    date_hierarchy = "placed_at"
    ordering = ("-placed_at",)
    inlines = (OrderLineInline, PaymentInline, TimelineInline)
    actions = ("cancel_orders", "refund_orders")
    fieldsets = (
        (
            None,
            {"fields": ("number", "customer", "partner_key", "status", "placed_at", "picked_at")},
        ),
        ("Money", {"fields": ("currency", "subtotal", "delivery_fee", "tip", "total")}),
        (
            "Delivery",
            {
                "fields": (
                    "address",
                    "postcode",
                    "lat",
                    "lon",
                    "hub_code",
                    "window_id",
                    "window_start",
                    "window_end",
                    "window_kind",
                )
            },
        ),
        ("Idempotency", {"fields": ("idempotency_key",), "classes": ("collapse",)}),
    )

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def _each(self, request, queryset: QuerySet, call, done: str) -> None:
        ok, failed = 0, []
        for number in queryset.values_list("number", flat=True):
            try:
                call(number)
                ok += 1
            except ApplicationError as exc:
                failed.append(f"{number}: {exc.message}")
        if ok:
            self.message_user(request, f"{done} {ok} order(s).", messages.SUCCESS)
        for failure in failed:
            self.message_user(request, failure, messages.ERROR)

    @admin.action(description="Cancel selected orders (voids the payment)", permissions=["change"])
    def cancel_orders(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda number: services.order_cancel(
                number=number, reason="Cancelled by an operator.", actor_id=request.user.pk
            ),
            "Cancelled",
        )

    @admin.action(description="Refund selected delivered orders in full", permissions=["change"])
    def refund_orders(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda number: services.order_refund(
                number=number, reason="Refunded by an operator.", actor_id=request.user.pk
            ),
            "Refunded",
        )


@admin.register(ProblemReport)
class ProblemReportAdmin(admin.ModelAdmin):
    """The support queue: reported problems above the auto-refund limit wait here."""

    list_display = ("reported_at", "order", "sku", "kind", "quantity", "amount", "status")
    list_filter = ("status", "kind")
    search_fields = ("order__number", "sku", "order__customer__username", "note")
    list_select_related = ("order",)
    date_hierarchy = "reported_at"
    actions = ("refund_problems", "reject_problems")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def _decide(self, request, queryset: QuerySet, *, refund: bool) -> None:
        done, failed = 0, []
        for pk in queryset.values_list("pk", flat=True):
            try:
                services.problem_decide(problem_id=pk, refund=refund, actor_id=request.user.pk)
                done += 1
            except ApplicationError as exc:
                failed.append(f"Report {pk}: {exc.message}")
        if done:
            verb = "Refunded" if refund else "Rejected"
            self.message_user(request, f"{verb} {done} report(s).", messages.SUCCESS)
        for failure in failed:
            self.message_user(request, failure, messages.ERROR)

    @admin.action(
        description="Refund selected reports (through the payment)", permissions=["change"]
    )
    def refund_problems(self, request, queryset):
        self._decide(request, queryset, refund=True)

    @admin.action(description="Reject selected reports", permissions=["change"])
    def reject_problems(self, request, queryset):
        self._decide(request, queryset, refund=False)


class CartLineInline(ReadOnlyInline):
    model = CartLine
    fields = ("sku", "name", "unit_price", "quantity", "added_at")
    readonly_fields = fields


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "session_key", "updated_at")
    search_fields = ("user__username", "user__email", "session_key")
    list_filter = (("user", admin.EmptyFieldListFilter),)
    inlines = (CartLineInline,)
    readonly_fields = ("user", "session_key", "created_at", "updated_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
