from django.db import migrations

from prime_now.kernel.expand_contract import ContractStep


class Migration(migrations.Migration):
    dependencies = [("prime_now", "0008_contract_legacy")]
    operations = [
        ContractStep(expand="0010_later", reason="an expand step cannot come after"),
        migrations.RemoveField(model_name="planted", name="kind"),
    ]
