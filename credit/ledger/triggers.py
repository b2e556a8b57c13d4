"""The database triggers that make the ledger table, and the policy records that must never change
(eligibility decisions, disbursements), append-only, for PostgreSQL and SQLite.

The ledger's are created by migration ``0003_ledger_triggers`` (``triggers_create``), the policy
tables' by ``0006_policy_records_append_only`` (``policy_triggers_create``). On SQLite a table
rebuild by a later migration drops triggers, so ``append_only_triggers_present`` is asserted by a
test after the last migration, and any migration that alters one of ``APPEND_ONLY_TABLES`` must
create its triggers again.

PostgreSQL: row triggers refuse UPDATE and DELETE for every role, the owner included. TRUNCATE is
not refused by a trigger, so that the owner can flush a test database; the runtime role simply has
no TRUNCATE grant (``manage.py ledger_runtime_role``), and cannot disable the triggers (only the
owner may ALTER TABLE, only a superuser may SET session_replication_role).

SQLite: the same two triggers. Flushing a test database is done by our ``flush`` command, which
drops every trigger around the flush and recreates it (SQLite has no roles to tell an owner apart).

The policy tables get the same pair of triggers per table (``<table>_no_update``,
``<table>_no_delete``), on PostgreSQL through one shared function that names the table it refuses.
"""

from __future__ import annotations

from typing import Any

TABLE = "credit_ledgerentry"
TRIGGER_NAMES = ("credit_ledgerentry_no_update", "credit_ledgerentry_no_delete")

# Why these: a decision is the record of what an enterprise was told (a forged one could grant a
# benefit the rules refused), a disbursement the record of money paid. Neither is ever corrected in
# place; the services only INSERT them.
POLICY_TABLES = ("credit_eligibilitydecision", "credit_disbursement")
APPEND_ONLY_TABLES = (TABLE, *POLICY_TABLES)

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


def trigger_names(table: str) -> tuple[str, str]:
    return (f"{table}_no_update", f"{table}_no_delete")


POLICY_TRIGGER_NAMES = tuple(name for table in POLICY_TABLES for name in trigger_names(table))
ALL_TRIGGER_NAMES = (*TRIGGER_NAMES, *POLICY_TRIGGER_NAMES)

_POSTGRES_POLICY_FUNCTION = """
    CREATE OR REPLACE FUNCTION credit_append_only_refuse_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql
    """


def _policy_statements(vendor: str, table: str, *, create: bool) -> list[str]:
    if table not in POLICY_TABLES:  # the names below are interpolated into SQL: our constants only
        raise ValueError(f"{table} is not an append-only policy table")
    no_update, no_delete = trigger_names(table)
    if vendor == "postgresql":
        if not create:
            return [f"DROP TRIGGER IF EXISTS {no_update} ON {table}", f"DROP TRIGGER IF EXISTS {no_delete} ON {table}"]
        return [
            f"DROP TRIGGER IF EXISTS {no_update} ON {table}",
            f"DROP TRIGGER IF EXISTS {no_delete} ON {table}",
            f"CREATE TRIGGER {no_update} BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION credit_append_only_refuse_change()",
            f"CREATE TRIGGER {no_delete} BEFORE DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION credit_append_only_refuse_change()",
        ]
    if vendor == "sqlite":
        if not create:
            return [f"DROP TRIGGER IF EXISTS {no_update}", f"DROP TRIGGER IF EXISTS {no_delete}"]
        return [
            f"CREATE TRIGGER IF NOT EXISTS {no_update} BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END",
            f"CREATE TRIGGER IF NOT EXISTS {no_delete} BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END",
        ]
    raise NotImplementedError(f"no append-only triggers for {vendor}")


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


def _present(connection: Any, table: str) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal AND tgenabled <> 'D'",
                [table],
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
        return {row[0] for row in cursor.fetchall()}


def triggers_present(connection: Any) -> set[str]:
    """The ledger's triggers that exist and are enabled."""
    return _present(connection, TABLE) & set(TRIGGER_NAMES)


def policy_triggers_create(connection: Any) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_POSTGRES_POLICY_FUNCTION)
        for table in POLICY_TABLES:
            for statement in _policy_statements(connection.vendor, table, create=True):
                cursor.execute(statement)


def policy_triggers_drop(connection: Any) -> None:
    with connection.cursor() as cursor:
        for table in POLICY_TABLES:
            for statement in _policy_statements(connection.vendor, table, create=False):
                cursor.execute(statement)
        if connection.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS credit_append_only_refuse_change()")


def append_only_triggers_present(connection: Any) -> set[str]:
    """Every append-only trigger (ledger and policy tables) that exists and is enabled."""
    found: set[str] = set()
    for table in APPEND_ONLY_TABLES:
        found |= _present(connection, table) & set(trigger_names(table))
    return found
