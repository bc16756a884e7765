from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("prime_now", "0009_contract_before_its_expand")]
    operations = [
        migrations.AddField(
            model_name="planted", name="extra", field=models.CharField(max_length=5, null=True)
        )
    ]
