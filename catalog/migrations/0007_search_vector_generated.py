"""`search_vector` becomes a generated column (catalog.models.search_document): PostgreSQL keeps
it, as the trigger of 0002/0004 did, and bulk inserts no longer carry it (so the ORM's
bulk_create can send whole columns as arrays). The trigger goes; the GIN index is declared."""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.expressions
from django.db import migrations, models


TRIGGER_BACK = """
CREATE OR REPLACE FUNCTION catalog_product_search_vector() RETURNS trigger AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('english', coalesce(NEW.name, '')), 'A')
        || setweight(to_tsvector('english', coalesce(NEW.brand, '')), 'B')
        || setweight(to_tsvector('english', coalesce(NEW.description, '')), 'C')
        || setweight(to_tsvector('english', coalesce(NEW.size, '')), 'D')
        || CASE WHEN NEW.attributes IS NULL OR NEW.attributes = '{}'::jsonb THEN ''::tsvector
           ELSE setweight(jsonb_to_tsvector('english', NEW.attributes, '["string", "key"]'), 'D')
           END;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER catalog_product_search_vector_trg
    BEFORE INSERT OR UPDATE OF name, brand, description, size, attributes ON catalog_product
    FOR EACH ROW EXECUTE FUNCTION catalog_product_search_vector();

UPDATE catalog_product SET name = name;

CREATE INDEX IF NOT EXISTS catalog_product_search_gin
    ON catalog_product USING gin (search_vector);
"""


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0006_money_field'),
    ]

    operations = [
        migrations.RunSQL(
            "DROP TRIGGER IF EXISTS catalog_product_search_vector_trg ON catalog_product;"
            " DROP FUNCTION IF EXISTS catalog_product_search_vector();",
            reverse_sql=TRIGGER_BACK,
        ),
        migrations.RemoveField(model_name='product', name='search_vector'),
        migrations.AddField(
            model_name='product',
            name='search_vector',
            field=models.GeneratedField(db_persist=True, expression=django.db.models.expressions.CombinedExpression(django.contrib.postgres.search.CombinedSearchVector(django.contrib.postgres.search.CombinedSearchVector(django.contrib.postgres.search.CombinedSearchVector(django.contrib.postgres.search.SearchVector('name', config='english', weight='A'), '||', django.contrib.postgres.search.SearchVector('brand', config='english', weight='B'), django.contrib.postgres.search.SearchConfig('english')), '||', django.contrib.postgres.search.SearchVector('description', config='english', weight='C'), django.contrib.postgres.search.SearchConfig('english')), '||', django.contrib.postgres.search.SearchVector('size', config='english', weight='D'), django.contrib.postgres.search.SearchConfig('english')), '||', models.Func(models.Func(models.Value('english'), models.F('attributes'), models.Value('["string", "key"]'), function='jsonb_to_tsvector', output_field=django.contrib.postgres.search.SearchVectorField()), models.Value('D'), function='setweight', output_field=django.contrib.postgres.search.SearchVectorField()), output_field=django.contrib.postgres.search.SearchVectorField()), output_field=django.contrib.postgres.search.SearchVectorField()),
        ),
        migrations.AddIndex(
            model_name='product',
            index=django.contrib.postgres.indexes.GinIndex(fields=['search_vector'], name='catalog_product_search_gin'),
        ),
    ]
