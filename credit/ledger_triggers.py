"""The database triggers that make the ledger table append-only, for PostgreSQL and SQLite.

Created by migration ``0003_ledger_triggers``; on SQLite a table rebuild by a later migration drops
triggers, so ``triggers_present`` is asserted by a test after the last migration, and any migration
that alters ``credit_ledgerentry`` must call ``triggers_create`` again.

PostgreSQL: row triggers refuse UPDATE and DELETE for every role, the owner included. TRUNCATE is
not refused by a trigger, so that the owner can flush a test database; the runtime role simply has
no TRUNCATE grant (``manage.py ledger_runtime_role``), and cannot disable the triggers (only the
owner may ALTER TABLE, only a superuser may SET session_replication_role).

SQLite: the same two triggers. Flushing a test database is done by our ``flush`` command, which
drops the triggers around the flush and recreates them (SQLite has no roles to tell an owner apart).
"""

from __future__ import annotations

from typing import Any

TABLE = "credit_ledgerentry"
TRIGGER_NAMES = ("credit_ledgerentry_no_update", "credit_ledgerentry_no_delete")

_POSTGRES_CREATE = [
    """
    CREATE OR REPLACE FUNCTION credit_ledgerentry_refuse_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'credit ledger is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql
    """,
    f"""
    CREATE TRIGGER credit_ledgerentry_no_update BEFORE UPDATE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION credit_ledgerentry_refuse_change()
    """,
    f"""
    CREATE TRIGGER credit_ledgerentry_no_delete BEFORE DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION credit_ledgerentry_refuse_change()
    """,
]
_POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS credit_ledgerentry_no_update ON {TABLE}",
    f"DROP TRIGGER IF EXISTS credit_ledgerentry_no_delete ON {TABLE}",
    "DROP FUNCTION IF EXISTS credit_ledgerentry_refuse_change()",
]
_SQLITE_CREATE = [
    f"""
    CREATE TRIGGER IF NOT EXISTS credit_ledgerentry_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'credit ledger is append-only: UPDATE refused'); END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS credit_ledgerentry_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'credit ledger is append-only: DELETE refused'); END
    """,
]
_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS credit_ledgerentry_no_update",
    "DROP TRIGGER IF EXISTS credit_ledgerentry_no_delete",
]


def _statements(vendor: str, *, create: bool) -> list[str]:
    if vendor == "postgresql":
        return _POSTGRES_CREATE if create else _POSTGRES_DROP
    if vendor == "sqlite":
        return _SQLITE_CREATE if create else _SQLITE_DROP
    raise NotImplementedError(f"no ledger triggers for {vendor}")


def triggers_create(connection: Any) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, create=True):
            cursor.execute(statement)


def triggers_drop(connection: Any) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, create=False):
            cursor.execute(statement)


def triggers_present(connection: Any) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal AND tgenabled <> 'D'",
                [TABLE],
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE])
        return {row[0] for row in cursor.fetchall()} & set(TRIGGER_NAMES)
