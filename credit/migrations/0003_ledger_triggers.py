"""Append-only credit ledger: triggers refusing UPDATE and DELETE (PostgreSQL and SQLite)."""

from django.db import migrations


def create(apps, schema_editor):
    from credit.ledger.triggers import triggers_create

    triggers_create(schema_editor.connection)


def drop(apps, schema_editor):
    from credit.ledger.triggers import triggers_drop

    triggers_drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("credit", "0002_catalogue_calendar_applications")]

    operations = [migrations.RunPython(create, drop)]
