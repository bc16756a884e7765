"""Explicit input and output shapes of the catalog API."""

from rest_framework import serializers

from catalog.services.search import MAX_PAGE_SIZE, MAX_QUERY_LENGTH, ORDERINGS
from prime_now.kernel.money import MoneyField


class ProductListInput(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=MAX_QUERY_LENGTH)
    department = serializers.SlugField(required=False, max_length=60)
    category = serializers.RegexField(
        r"^[a-z0-9-]+(/[a-z0-9-]+)?$",
        required=False,
        max_length=121,
        error_messages={"invalid": "A category slug or path, e.g. dairy-eggs-milk."},
    )
    brand = serializers.CharField(required=False, max_length=100)
    price_min = serializers.DecimalField(
        required=False,
        max_digits=MoneyField.MAX_DIGITS,
        decimal_places=MoneyField.DECIMAL_PLACES,
        min_value=0,
    )
    price_max = serializers.DecimalField(
        required=False,
        max_digits=MoneyField.MAX_DIGITS,
        decimal_places=MoneyField.DECIMAL_PLACES,
        min_value=0,
    )
    ordering = serializers.ChoiceField(choices=ORDERINGS, required=False, default="relevance")
    page_size = serializers.IntegerField(
        required=False, default=24, min_value=1, max_value=MAX_PAGE_SIZE
    )
    cursor = serializers.CharField(required=False, max_length=1000)

    def validate(self, attrs):
        low, high = attrs.get("price_min"), attrs.get("price_max")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"price_min": "Must not be above price_max."})
        return attrs


class ProductSuggestInput(serializers.Serializer):
    q = serializers.CharField(max_length=MAX_QUERY_LENGTH, allow_blank=True)
    limit = serializers.IntegerField(required=False, default=8, min_value=1, max_value=20)


class ProductOutput(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    slug = serializers.CharField()
    brand = serializers.CharField()
    size = serializers.CharField()
    description = serializers.CharField()
    image_url = serializers.CharField()
    department = serializers.CharField()
    category = serializers.CharField()
    price = serializers.DecimalField(
        max_digits=MoneyField.MAX_DIGITS, decimal_places=MoneyField.DECIMAL_PLACES
    )
    currency = serializers.CharField()
    active = serializers.BooleanField()
    age_restricted = serializers.BooleanField()
    substitutes_by_default = serializers.BooleanField(
        help_text="Its department offers a best-match substitute unless the customer chooses."
    )


class ProductPageOutput(serializers.Serializer):
    results = ProductOutput(many=True)
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


class CategoryOutput(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    path = serializers.CharField()


class DepartmentOutput(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    categories = CategoryOutput(many=True)
