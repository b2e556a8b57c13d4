"""Eligibility decisions and disbursements append-only: triggers refusing UPDATE and DELETE
(PostgreSQL and SQLite), as the ledger's (``0003_ledger_triggers``)."""

from django.db import migrations


def create(apps, schema_editor):
    from credit.ledger.triggers import policy_triggers_create

    policy_triggers_create(schema_editor.connection)


def drop(apps, schema_editor):
    from credit.ledger.triggers import policy_triggers_drop

    policy_triggers_drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("credit", "0005_policies")]

    operations = [migrations.RunPython(create, drop)]
