"""Explicit input and output serializers for ordering's API. Inputs are strict: a field a
client must not set (status, totals, customer, prices) is refused with 400, not ignored."""

from rest_framework import serializers

from ordering import services
from prime_now.kernel.api.serializers import StrictInput, required_with


class CartLineAddInput(StrictInput):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(
        min_value=1, max_value=services.BASKET_LIMITS.max_line_quantity, default=1
    )


class CartLineChangeInput(StrictInput):
    quantity = serializers.IntegerField(
        min_value=0, max_value=services.BASKET_LIMITS.max_line_quantity
    )


class CartLineSubstitutionInput(StrictInput):
    openapi_constraints = required_with(
        "substitution",
        services.SubstitutionChoice.SPECIFIC,
        "substitute_sku",
        choices=services.SubstitutionChoice.values,
    )
    substitution = serializers.ChoiceField(choices=services.SubstitutionChoice.choices)
    substitute_sku = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text='The product wanted instead; required with "specific".',
    )

    def validate(self, attrs):
        specific = attrs["substitution"] == services.SubstitutionChoice.SPECIFIC
        if specific and not attrs["substitute_sku"].strip():
            raise serializers.ValidationError({"substitute_sku": ['Required with "specific".']})
        return attrs


class SubstituteDecisionInput(StrictInput):
    decision = serializers.ChoiceField(choices=[("accept", "Accept"), ("reject", "Reject")])


class ProblemReportInput(StrictInput):
    sku = serializers.CharField(max_length=64, help_text="The order line")
    kind = serializers.ChoiceField(choices=services.ProblemKind.choices)
    quantity = serializers.IntegerField(
        min_value=1, max_value=services.BASKET_LIMITS.max_line_quantity
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ProblemOutput(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=services.ProblemKind.choices)
    quantity = serializers.IntegerField()
    note = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    status = serializers.ChoiceField(
        choices=services.ProblemStatus.choices,
        help_text="refunded (at once, or by support), awaiting_support or rejected",
    )
    reported_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class ProblemListOutput(serializers.Serializer):
    results = ProblemOutput(many=True)


class OrderCancelInput(StrictInput):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class OrderListInput(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
    before = serializers.CharField(max_length=16, required=False)


class CartLineOutput(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    available = serializers.BooleanField()
    price_when_added = serializers.DecimalField(max_digits=12, decimal_places=2)
    price_changed = serializers.BooleanField()
    substitution = serializers.ChoiceField(choices=services.SubstitutionChoice.choices)
    substitute_sku = serializers.CharField()


class CartOutput(serializers.Serializer):
    lines = CartLineOutput(many=True)
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    item_count = serializers.IntegerField()
    has_price_changes = serializers.BooleanField()
    has_unavailable = serializers.BooleanField()
    notices = serializers.ListField(child=serializers.CharField())
    max_line_quantity = serializers.IntegerField()
    max_lines = serializers.IntegerField()


class OrderLineOutput(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    quantity = serializers.IntegerField()
    picked_quantity = serializers.IntegerField(allow_null=True)
    substitute_sku = serializers.CharField()
    substitute_name = serializers.CharField()
    substitute_unit_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True
    )
    substitute_quantity = serializers.IntegerField()
    substitution = serializers.ChoiceField(choices=services.SubstitutionChoice.choices)
    allowed_substitute_sku = serializers.CharField()
    substitute_decision = serializers.ChoiceField(
        choices=services.SubstituteDecision.choices,
        allow_null=True,
        help_text="null until a substitute is picked; proposed ones may be accepted or "
        "rejected until the order is out for delivery.",
    )
    missing = serializers.BooleanField()
    missing_quantity = serializers.IntegerField()
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)


class DeliveryOutput(serializers.Serializer):
    address = serializers.CharField()
    postcode = serializers.CharField()
    hub_code = serializers.CharField()
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    window_kind = serializers.CharField()


class TimelineOutput(serializers.Serializer):
    status = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.SerializerMethodField()
    reason = serializers.CharField()

    def get_actor(self, entry) -> str:
        # A customer sees who acted by role ("system", "customer", "operator"), not staff names.
        return entry.actor.split(":", 1)[0]


class PaymentOutput(serializers.Serializer):
    status = serializers.CharField(source="payment_status")
    card_brand = serializers.CharField()
    authorized = serializers.DecimalField(
        source="amount_authorized", max_digits=12, decimal_places=2
    )
    captured = serializers.DecimalField(source="amount_captured", max_digits=12, decimal_places=2)
    refunded = serializers.DecimalField(source="amount_refunded", max_digits=12, decimal_places=2)


class OrderOutput(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    placed_at = serializers.DateTimeField()
    lines = OrderLineOutput(many=True)
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    delivery_fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    tip = serializers.DecimalField(max_digits=12, decimal_places=2)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    delivery = DeliveryOutput()
    payment = PaymentOutput(source="*")
    cancellable = serializers.BooleanField()
    timeline = TimelineOutput(many=True)


class OrderSummaryOutput(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    placed_at = serializers.DateTimeField()
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    item_count = serializers.SerializerMethodField()
    window_start = serializers.DateTimeField(source="delivery.window_start")
    window_end = serializers.DateTimeField(source="delivery.window_end")
    cancellable = serializers.BooleanField()

    def get_item_count(self, order) -> int:
        return sum(line.quantity for line in order.lines)


class OrderListOutput(serializers.Serializer):
    results = OrderSummaryOutput(many=True)
    next_before = serializers.CharField(allow_null=True)
