"""What search ranks by (0009 puts them in the search vector): `product_type`, `taxonomy` (the
department's and category's names, filled here) and `popularity` (units sold lately, reported
by ordering). Demo products seeded before get their type: the demo item their name ends with."""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.expressions
import django.db.models.functions.comparison
from django.db import migrations, models


def fill_taxonomy(apps, schema_editor):
    Category = apps.get_model("catalog", "Category")
    Product = apps.get_model("catalog", "Product")
    for category in Category.objects.select_related("department"):
        words = f"{category.department.name} {category.name}"[:210]
        Product.objects.filter(category_id=category.id).update(taxonomy=words)
    # Demo products seeded before: their type is the demo item their name ends with (longest
    # last, so that "Chocolate Chip Cookies" wins over "Cookies").
    from catalog.services.demo_data import DEPARTMENTS

    items = {item for dept in DEPARTMENTS for cat in dept.categories for item in cat.items}
    demo = Product.objects.filter(sku__startswith="PN-")
    for item in sorted(items, key=len):
        demo.filter(name__endswith=f" {item}").update(product_type=item)


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0007_search_vector_generated'),
    ]

    operations = [
        migrations.AddField(
            model_name='product',
            name='popularity',
            field=models.PositiveIntegerField(db_default=0, default=0, editable=False),
        ),
        migrations.AddField(
            model_name='product',
            name='product_type',
            field=models.CharField(blank=True, help_text='What it is, without brand or variant ("Potato Chips"): search ranks it high.', max_length=100),
        ),
        migrations.AddField(
            model_name='product',
            name='taxonomy',
            field=models.CharField(blank=True, default='', editable=False, max_length=210),
        ),
        migrations.RunPython(fill_taxonomy, migrations.RunPython.noop),
    ]
