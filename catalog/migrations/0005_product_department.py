"""Products keep their category's department, with (department|category, active, name|price, id)
indexes: a department or category page in name or price order is one index range scan."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_department(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    Category = apps.get_model("catalog", "Category")
    Product.objects.update(
        department_id=Subquery(
            Category.objects.filter(pk=OuterRef("category_id")).values("department_id")[:1]
        )
    )
    # Every row was rewritten: fold the GIN pending lists now rather than leave searches
    # scanning them until autovacuum comes round.
    for index in ("catalog_product_search_gin", "catalog_product_name_trgm",
                  "catalog_product_brand_trgm"):
        schema_editor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_search_vector_cheaper"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="department",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="catalog.department",
            ),
        ),
        migrations.RunPython(fill_department, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="product",
            name="department",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="catalog.department",
            ),
        ),
        migrations.RemoveIndex(model_name="product", name="catalog_prod_category_active"),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(
                fields=["department", "active", "name", "id"], name="catalog_prod_dept_name"
            ),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(
                fields=["department", "active", "price", "id"], name="catalog_prod_dept_price"
            ),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(
                fields=["category", "active", "name", "id"], name="catalog_prod_category_name"
            ),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(
                fields=["category", "active", "price", "id"], name="catalog_prod_category_price"
            ),
        ),
    ]
