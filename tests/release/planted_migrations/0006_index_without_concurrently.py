from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("prime_now", "0005_not_null_with_db_default")]
    operations = [
        migrations.AddIndex(
            model_name="planted", index=models.Index(fields=["name"], name="planted_name")
        )
    ]
