"""``flush``, ledger-aware: an owner's maintenance operation (pytest-django flushes test databases
with it).

SQLite: the append-only triggers would refuse the ``DELETE FROM`` of the flush, so they are dropped
around it and recreated afterwards. PostgreSQL: the flush is a TRUNCATE, which the triggers do not
refuse and the runtime role may not run; when the session was switched to the runtime role (as the
CI's ledger tests are), the flush runs as the session's owner role and switches back.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections

from credit.ledger_triggers import triggers_create, triggers_drop


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor == "sqlite":
            triggers_drop(connection)
            try:
                super().handle(**options)
            finally:
                triggers_create(connection)
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
