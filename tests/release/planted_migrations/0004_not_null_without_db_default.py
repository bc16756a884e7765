from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("prime_now", "0003_rename_column")]
    operations = [
        migrations.AddField(
            model_name="planted", name="code", field=models.CharField(max_length=5, default="x")
        )
    ]
