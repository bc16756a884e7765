"""The deterministic demo catalog: 25 departments, 25,000 products (small: the first 500).

Idempotent: departments and categories are matched by slug, products by SKU; products that
exist are left as they are (an operator may have edited them). Fast when already seeded
(one count query).
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from ..models import Category, Department, Product
from . import bulk, demo_data
from .changes import publish_changes


@dataclass(frozen=True)
class SeedReport:
    created: int
    already_there: int


def catalog_seed(*, small: bool = False) -> SeedReport:
    """Create the demo products that are missing (and their departments and categories)."""
    total = demo_data.SMALL if small else demo_data.TOTAL
    skus = [f"PN-{i + 1:06d}" for i in range(total)]
    if Product.objects.filter(sku__gte=skus[0], sku__lte=skus[-1]).count() >= total:
        return SeedReport(created=0, already_there=total)
    with transaction.atomic():
        categories = _tree()
        existing = set(Product.objects.filter(sku__startswith="PN-").values_list("sku", flat=True))
        new = [demo_data.product_spec(i) for i, sku in enumerate(skus) if sku not in existing]
        ids = bulk.upsert(
            [
                bulk.Row(
                    sku=spec.sku,
                    name=spec.name,
                    slug=spec.slug,
                    brand=spec.brand,
                    product_type=spec.product_type,
                    size=spec.size,
                    description=spec.description,
                    image_url="",
                    category_id=categories[spec.category].id,
                    department_id=categories[spec.category].department_id,
                    price=spec.price,
                    currency=settings.CURRENCY,
                    active=True,
                    age_restricted=spec.age_restricted,
                    attributes=spec.attributes,
                )
                for spec in new
            ]
        )
        publish_changes(product_ids=ids.values())
    bulk.after_write(len(new))
    return SeedReport(created=len(new), already_there=total - len(new))


def _tree() -> dict[str, Category]:
    """Upsert the 25 departments and their categories; returns categories by slug."""
    by_slug = {c.slug: c for c in Category.objects.select_related("department")}
    for position, dept in enumerate(demo_data.DEPARTMENTS):
        department, _ = Department.objects.get_or_create(
            slug=dept.slug,
            defaults={
                "name": dept.name,
                "position": position,
                "substitutes_by_default": dept.slug not in demo_data.NO_SUBSTITUTES,
            },
        )
        for cat_position, cat in enumerate(dept.categories):
            slug = demo_data.category_slug(dept, cat)
            if slug not in by_slug:
                by_slug[slug] = Category.objects.create(
                    department=department, slug=slug, name=cat.name, position=cat_position
                )
    return by_slug
