"""The staff roles (operator, dispatcher, hub manager, support) as groups holding their admin
permissions (prime_now.kernel.roles.ROLE_PERMISSIONS); every later `migrate` keeps them in line
with that table (KernelConfig's post_migrate). The operators' group held no permission before:
its members were superusers."""

from django.db import migrations

from prime_now.kernel.roles import roles_sync


def create_staff_roles(apps, schema_editor):
    roles_sync(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("kernel", "0007_dead_letters"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0010_features22"),
        ("fulfillment", "0006_hub_managers_scope"),
        ("ordering", "0005_features22"),
        ("delivery", "0011_courier_works_for_hubs"),
        ("insights", "0001_initial"),
        ("notifications", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_staff_roles, migrations.RunPython.noop)]
