"""Give the default groups configview's permissions (the table is daemons.permissions)."""

from django.db import migrations

from daemons.permissions import sync_default_groups


def grant(apps, schema_editor):
    sync_default_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("configview", "0001_initial"),
        ("daemons", "0002_default_groups"),
    ]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
