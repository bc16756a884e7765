from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("prime_now", "0006_index_without_concurrently")]
    operations = [
        AddIndexConcurrently(
            model_name="planted", index=models.Index(fields=["kind"], name="planted_kind")
        )
    ]
