from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0001_windows"),
    ]

    operations = [
        migrations.AddField(
            model_name="checkout",
            name="attempt",
            field=models.PositiveIntegerField(
                default=1,
                help_text="Runs of this checkout (a failed one may be retried with its key).",
            ),
        ),
    ]
