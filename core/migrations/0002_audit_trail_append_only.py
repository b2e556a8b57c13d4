"""The audit trail is append-only in the database too: triggers refusing UPDATE and DELETE."""

from django.db import migrations


def create(apps, schema_editor):
    from core.append_only import triggers_create

    triggers_create(schema_editor.connection, app_label="core")


def drop(apps, schema_editor):
    from core.append_only import triggers_drop

    triggers_drop(schema_editor.connection, app_label="core")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
