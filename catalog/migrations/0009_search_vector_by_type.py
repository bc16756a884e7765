"""Search ranks by what a product is: `taxonomy` and the type's last word weigh most (A), then
`product_type` (B), name and brand (C), the rest (D). The generated column is re-made (a
GeneratedField cannot be altered) once 0008 has filled the columns it reads."""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.expressions
import django.db.models.functions.comparison
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0008_search_fields'),
    ]

    operations = [
        migrations.RemoveIndex(model_name='product', name='catalog_product_search_gin'),
        migrations.RemoveField(model_name='product', name='search_vector'),
        migrations.AddField(
            model_name='product',
            name='search_vector',
            field=models.GeneratedField(db_persist=True, expression=django.db.models.expressions.CombinedExpression(django.contrib.postgres.search.CombinedSearchVector(django.contrib.postgres.search.CombinedSearchVector(django.contrib.postgres.search.CombinedSearchVector(django.contrib.postgres.search.CombinedSearchVector(django.contrib.postgres.search.CombinedSearchVector(django.contrib.postgres.search.CombinedSearchVector(django.contrib.postgres.search.SearchVector('taxonomy', config='english', weight='A'), '||', django.contrib.postgres.search.SearchVector(models.Func(django.db.models.functions.comparison.Coalesce(django.db.models.functions.comparison.NullIf(models.F('product_type'), models.Value('')), models.F('name')), models.Value('^.*[^[:alnum:]]'), models.Value(''), function='regexp_replace', output_field=models.TextField()), config='english', weight='A'), django.contrib.postgres.search.SearchConfig('english')), '||', django.contrib.postgres.search.SearchVector('product_type', config='english', weight='B'), django.contrib.postgres.search.SearchConfig('english')), '||', django.contrib.postgres.search.SearchVector('name', config='english', weight='C'), django.contrib.postgres.search.SearchConfig('english')), '||', django.contrib.postgres.search.SearchVector('brand', config='english', weight='C'), django.contrib.postgres.search.SearchConfig('english')), '||', django.contrib.postgres.search.SearchVector('description', config='english', weight='D'), django.contrib.postgres.search.SearchConfig('english')), '||', django.contrib.postgres.search.SearchVector('size', config='english', weight='D'), django.contrib.postgres.search.SearchConfig('english')), '||', models.Func(models.Func(models.Value('english'), models.F('attributes'), models.Value('["string", "key"]'), function='jsonb_to_tsvector', output_field=django.contrib.postgres.search.SearchVectorField()), models.Value('D'), function='setweight', output_field=django.contrib.postgres.search.SearchVectorField()), output_field=django.contrib.postgres.search.SearchVectorField()), output_field=django.contrib.postgres.search.SearchVectorField()),
        ),
        migrations.AddIndex(
            model_name='product',
            index=django.contrib.postgres.indexes.GinIndex(fields=['search_vector'], name='catalog_product_search_gin'),
        ),
    ]
