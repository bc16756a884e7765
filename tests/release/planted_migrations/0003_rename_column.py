from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("prime_now", "0002_drop_column")]
    operations = [migrations.RenameField(model_name="planted", old_name="title", new_name="name")]
