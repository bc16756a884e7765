from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Planted",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("title", models.CharField(max_length=50)),
                ("note", models.CharField(max_length=50, null=True)),
                ("legacy", models.CharField(max_length=50, null=True)),
            ],
        ),
    ]
