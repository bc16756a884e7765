from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("prime_now", "0001_initial")]
    operations = [migrations.RemoveField(model_name="planted", name="note")]
