"""Application history and clock, signed commitments and inspection records append-only in the
database; the rosters of a frozen campaign unchangeable (see ``core.append_only``)."""

from django.db import migrations


def create(apps, schema_editor):
    from core.append_only import triggers_create

    triggers_create(schema_editor.connection, app_label="approvals")


def drop(apps, schema_editor):
    from core.append_only import triggers_drop

    triggers_drop(schema_editor.connection, app_label="approvals")


class Migration(migrations.Migration):
    dependencies = [("approvals", "0006_campaign_recusals_hash_refused_draw"), ("core", "0002_audit_trail_append_only")]

    operations = [migrations.RunPython(create, drop)]
