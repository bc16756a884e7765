from django.db import migrations

from prime_now.kernel.expand_contract import ContractStep


class Migration(migrations.Migration):
    dependencies = [("prime_now", "0007_index_concurrently")]
    operations = [
        ContractStep(expand="0005_not_null_with_db_default", reason="kind replaced legacy"),
        migrations.RemoveField(model_name="planted", name="legacy"),
    ]
