"""``flush``, aware of the append-only tables: an owner's maintenance operation (pytest-django
flushes test databases with it).

SQLite: the triggers that refuse changes (the credit ledger, eligibility decisions and disbursements:
``credit.ledger.triggers``; any other app's, e.g. the audit trail's) would refuse the ``DELETE FROM``
of the flush, and SQLite has no owner role to exempt. So every trigger of the schema is dropped
around the flush and recreated afterwards from the SQL SQLite stored for it (our schema has no
other triggers than these refusals; Django creates none on SQLite).

PostgreSQL: the flush is a TRUNCATE, which the triggers do not refuse and the runtime role may not
run; when the session was switched to the runtime role (as the CI's ledger tests are), the flush
runs as the session's owner role and switches back.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL")
                triggers = cursor.fetchall()
                for name, _sql in triggers:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {connection.ops.quote_name(name)}")
            try:
                super().handle(**options)
            finally:
                with connection.cursor() as cursor:
                    for _name, sql in triggers:
                        cursor.execute(sql)
            return
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_user, session_user")
                current, session = cursor.fetchone()
                if current != session:
                    cursor.execute("SET ROLE NONE")
            try:
                super().handle(**options)
            finally:
                if current != session:
                    with connection.cursor() as cursor:
                        cursor.execute(f"SET ROLE {connection.ops.quote_name(current)}")
            return
        super().handle(**options)
