"""Grow the deterministic demo catalog: 25 departments, 25,000 products (--small: 500).

Idempotent: departments and categories are matched by slug, products by SKU; products that
exist are left as they are (an operator may have edited them). Fast when already seeded
(one count query).
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from catalog import bulk, demo_data
from catalog.models import Category, Department, Product
from catalog.services import publish_changes


class Command(BaseCommand):
    help = "Create the demo catalog (25 departments, 25,000 products; --small: 500). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--small", action="store_true", help="Only the first 500 products.")

    def handle(self, *args, small: bool = False, **options):
        total = demo_data.SMALL if small else demo_data.TOTAL
        skus = [f"PN-{i + 1:06d}" for i in range(total)]
        if Product.objects.filter(sku__gte=skus[0], sku__lte=skus[-1]).count() >= total:
            self.stdout.write(f"Catalog already seeded ({total} demo products).")
            return
        with transaction.atomic():
            categories = self._tree()
            existing = set(
                Product.objects.filter(sku__startswith="PN-").values_list("sku", flat=True)
            )
            new = [demo_data.product_spec(i) for i, sku in enumerate(skus) if sku not in existing]
            bulk.insert(
                [
                    bulk.Row(
                        sku=spec.sku,
                        name=spec.name,
                        slug=spec.slug,
                        brand=spec.brand,
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
            publish_changes(product_ids=bulk.ids_for_skus(s.sku for s in new).values())
            if len(new) > 1000:
                bulk.after_large_write()
        self.stdout.write(
            f"Catalog seeded: {len(new)} products created, {total - len(new)} already there."
        )

    def _tree(self) -> dict[str, Category]:
        """Upsert the 25 departments and their categories; returns categories by slug."""
        by_slug = {c.slug: c for c in Category.objects.select_related("department")}
        for position, dept in enumerate(demo_data.DEPARTMENTS):
            department, _ = Department.objects.get_or_create(
                slug=dept.slug, defaults={"name": dept.name, "position": position}
            )
            for cat_position, cat in enumerate(dept.categories):
                slug = demo_data.category_slug(dept, cat)
                if slug not in by_slug:
                    by_slug[slug] = Category.objects.create(
                        department=department, slug=slug, name=cat.name, position=cat_position
                    )
        return by_slug
