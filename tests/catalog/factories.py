"""Catalog factories for any app's tests: `ProductFactory()` makes an active product in a
fresh category and department; SKUs are deterministic (`TEST-000001`, `TEST-000002`, ...)."""

from decimal import Decimal

import factory
from django.utils.text import slugify

from catalog.models import Category, Department, PriceHistory, Product


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"department-{n}")
    name = factory.Sequence(lambda n: f"Department {n}")
    position = factory.Sequence(lambda n: n % 1000)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    department = factory.SubFactory(DepartmentFactory)
    slug = factory.Sequence(lambda n: f"category-{n}")
    name = factory.Sequence(lambda n: f"Category {n}")
    position = factory.Sequence(lambda n: n % 1000)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"TEST-{n + 1:06d}")
    name = factory.Sequence(lambda n: f"Test Product {n + 1}")
    slug = factory.LazyAttribute(lambda p: slugify(p.name))
    brand = "Prime Basics"
    size = "1 ea"
    description = factory.LazyAttribute(lambda p: f"{p.name} from {p.brand}.")
    image_url = ""
    category = factory.SubFactory(CategoryFactory)
    price = Decimal("2.99")
    currency = "USD"
    active = True
    age_restricted = False
    attributes = factory.LazyFunction(dict)


class PriceHistoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceHistory

    product = factory.SubFactory(ProductFactory)
    old_price = Decimal("2.99")
    new_price = Decimal("3.49")
    currency = "USD"
    source = "service"
