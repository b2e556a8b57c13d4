"""Create (or refresh) the PostgreSQL runtime role the application connects as.

Run it as the database owner (the role that runs migrations), after every ``migrate``:

    DATABASE_URL=postgres://owner@db/reformflow manage.py ledger_runtime_role --role reformflow_app

The runtime role may read and write the application's tables, except the append-only ones (the
credit ledger, eligibility decisions, disbursements: ``credit.ledger.triggers.APPEND_ONLY_TABLES``),
where it may only SELECT and INSERT: no UPDATE, DELETE or TRUNCATE, and since it owns nothing it
cannot ALTER TABLE … DISABLE TRIGGER; it is no superuser, so it cannot SET session_replication_role
either. Its password, if it logs in with one, is read from the environment variable named by
--password-env.
"""

from __future__ import annotations

import os
import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from core.append_only import APPEND_ONLY_TABLES as KERNEL_APPEND_ONLY
from credit.ledger.triggers import APPEND_ONLY_TABLES as CREDIT_APPEND_ONLY

# The credit ledger and policy records, and the audit trail, application history, commitments and
# inspection records (``core.append_only``): their triggers refuse changes for every role anyway;
# the runtime role is not even granted UPDATE or DELETE on them.
APPEND_ONLY_TABLES = (*CREDIT_APPEND_ONLY, *(t for tables in KERNEL_APPEND_ONLY.values() for t in tables))

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def runtime_role_setup(*, role: str, password: str | None = None, login: bool = True) -> list[str]:
    """Create or update ``role`` and its grants on the current database; returns the tables granted."""
    if not _NAME.match(role):
        raise CommandError(f"role name {role!r} must match {_NAME.pattern}")
    quoted = connection.ops.quote_name(role)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                f"CREATE ROLE {quoted} {'LOGIN' if login else 'NOLOGIN'} NOSUPERUSER NOCREATEDB NOCREATEROLE"
            )
        elif row[0]:
            raise CommandError(f"role {role} is a superuser: refusing to use it as the runtime role")
        if password:
            cursor.execute(f"ALTER ROLE {quoted} PASSWORD %s", [password])
        cursor.execute("SELECT current_database()")
        database = connection.ops.quote_name(cursor.fetchone()[0])
        cursor.execute(f"GRANT CONNECT ON DATABASE {database} TO {quoted}")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
        cursor.execute("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = cursor.fetchall()
        for table, owner in tables:
            if owner == role:
                raise CommandError(f"role {role} owns {table}: the runtime role must own nothing")
            name = connection.ops.quote_name(table)
            cursor.execute(f"REVOKE ALL ON {name} FROM {quoted}")
            if table in APPEND_ONLY_TABLES:
                cursor.execute(f"GRANT SELECT, INSERT ON {name} TO {quoted}")
            else:
                cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {name} TO {quoted}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
    return [table for table, _owner in tables]


class Command(BaseCommand):
    help = "Create or refresh the PostgreSQL runtime role (no UPDATE/DELETE/TRUNCATE on the append-only tables)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--role", required=True, help="name of the runtime role, e.g. reformflow_app")
        parser.add_argument("--password-env", help="environment variable holding the role's password")
        parser.add_argument("--no-login", action="store_true", help="a role to SET ROLE to, without LOGIN")

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("the runtime role exists on PostgreSQL only (SQLite has no roles)")
        password = None
        if options["password_env"]:
            password = os.environ.get(options["password_env"])
            if not password:
                raise CommandError(f"environment variable {options['password_env']} is empty")
        tables = runtime_role_setup(role=options["role"], password=password, login=not options["no_login"])
        self.stdout.write(
            f"runtime role {options['role']}: read/write on {len(tables) - len(APPEND_ONLY_TABLES)} tables, "
            f"SELECT/INSERT only on {', '.join(APPEND_ONLY_TABLES)}"
        )
