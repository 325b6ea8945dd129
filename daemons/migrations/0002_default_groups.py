"""Create the Viewers, Operators and Administrators groups with their permissions."""

from django.db import migrations

from daemons.permissions import GROUP_PERMISSIONS, sync_default_groups


def create_groups(apps, schema_editor):
    sync_default_groups(apps)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUP_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("daemons", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_groups, remove_groups)]
