from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("prime_now", "0004_not_null_without_db_default")]
    operations = [
        migrations.AddField(
            model_name="planted",
            name="kind",
            field=models.CharField(max_length=5, db_default="plain"),
        )
    ]
