"""Database triggers for the records that are written once and never changed: the audit trail, the
application history and clock, signed commitments and inspection records. The ORM already refuses
(``core.models.AppendOnlyModel``); these make the database refuse too, for every role, so an UPDATE
or DELETE in SQL (or a ``QuerySet.update``) cannot rewrite what happened.

And the rosters of a random-inspection campaign: rows of a campaign that has left the draft state
refuse INSERT, UPDATE and DELETE (``approvals.Campaign``: the hashes published at the freeze must
keep describing them).

The same conventions as the credit ledger (``credit.ledger.triggers``): PostgreSQL row triggers
(TRUNCATE, the owner's flush of a test database, is not refused; the runtime role has no TRUNCATE
grant), SQLite triggers dropped and recreated around our ``flush``. Migrations create them; a table
rebuilt by a later SQLite migration loses its triggers, so a test asserts they are all present after
the last migration, and a migration that alters one of these tables must create them again.
"""

from __future__ import annotations

from typing import Any

# The tables are our own constants, interpolated into SQL below: never user input.
APPEND_ONLY_TABLES: dict[str, tuple[str, ...]] = {
    "core": ("core_auditevent",),
    "approvals": (
        "approvals_applicationevent",
        "approvals_clockevent",
        "approvals_commitment",
        "approvals_inspection",
        "approvals_inspectionattachment",
        "approvals_cardevent",
        "approvals_rating",
    ),
}
ROSTER_TABLES = ("approvals_campaigntarget", "approvals_campaigninspector", "approvals_campaignrecusal")

_PG_FUNCTIONS = [
    """
    CREATE OR REPLACE FUNCTION core_append_only_refuse() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION core_frozen_roster_refuse() RETURNS trigger AS $$
    DECLARE
        campaign_status text;
    BEGIN
        SELECT status INTO campaign_status FROM approvals_campaign
        WHERE id = (CASE WHEN TG_OP = 'DELETE' THEN OLD.campaign_id ELSE NEW.campaign_id END);
        IF campaign_status IS NOT NULL AND campaign_status <> 'draft' THEN
            RAISE EXCEPTION 'the rosters of a frozen campaign cannot change: % on % refused', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF TG_OP = 'UPDATE' AND OLD.campaign_id <> NEW.campaign_id THEN
            SELECT status INTO campaign_status FROM approvals_campaign WHERE id = OLD.campaign_id;
            IF campaign_status <> 'draft' THEN
                RAISE EXCEPTION 'the rosters of a frozen campaign cannot change: % on % refused', TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
]


def _names(table: str) -> tuple[str, str]:
    return (f"{table}_no_update", f"{table}_no_delete")


def _roster_names(table: str) -> tuple[str, str, str]:
    return (f"{table}_frozen_no_insert", f"{table}_frozen_no_update", f"{table}_frozen_no_delete")


def tables_of(app_label: str) -> tuple[str, ...]:
    return APPEND_ONLY_TABLES.get(app_label, ())


def _statements(vendor: str, *, tables: tuple[str, ...], rosters: tuple[str, ...], create: bool) -> list[str]:
    statements: list[str] = []
    if vendor == "postgresql":
        if create and (tables or rosters):
            statements.extend(_PG_FUNCTIONS)
        for table in tables:
            for name in _names(table):
                statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            if create:
                statements.append(
                    f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION core_append_only_refuse()"
                )
                statements.append(
                    f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION core_append_only_refuse()"
                )
        for table in rosters:
            for name in _roster_names(table):
                statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            if create:
                for name, op in zip(_roster_names(table), ("INSERT", "UPDATE", "DELETE"), strict=True):
                    statements.append(
                        f"CREATE TRIGGER {name} BEFORE {op} ON {table} "
                        "FOR EACH ROW EXECUTE FUNCTION core_frozen_roster_refuse()"
                    )
        return statements
    if vendor == "sqlite":
        for table in tables:
            no_update, no_delete = _names(table)
            statements.append(f"DROP TRIGGER IF EXISTS {no_update}")
            statements.append(f"DROP TRIGGER IF EXISTS {no_delete}")
            if create:
                statements.append(
                    f"CREATE TRIGGER {no_update} BEFORE UPDATE ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END"
                )
                statements.append(
                    f"CREATE TRIGGER {no_delete} BEFORE DELETE ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END"
                )
        for table in rosters:
            names = _roster_names(table)
            for name in names:
                statements.append(f"DROP TRIGGER IF EXISTS {name}")
            if create:
                frozen = "(SELECT status FROM approvals_campaign WHERE id = {ref}.campaign_id) <> 'draft'"
                for name, op, ref in zip(names, ("INSERT", "UPDATE", "DELETE"), ("NEW", "OLD", "OLD"), strict=True):
                    statements.append(
                        f"CREATE TRIGGER {name} BEFORE {op} ON {table} WHEN {frozen.format(ref=ref)} "
                        f"BEGIN SELECT RAISE(ABORT, 'the rosters of a frozen campaign cannot change: {op} refused'); END"
                    )
        return statements
    return statements


def _run(connection: Any, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _existing(connection: Any, tables: tuple[str, ...]) -> tuple[str, ...]:
    """The tables that exist yet: a migration runs at its point in history, before the tables that
    later migrations add to ``APPEND_ONLY_TABLES`` (those create their own triggers)."""
    present = set(connection.introspection.table_names())
    return tuple(table for table in tables if table in present)


def triggers_create(connection: Any, *, app_label: str) -> None:
    rosters = ROSTER_TABLES if app_label == "approvals" else ()
    tables = _existing(connection, tables_of(app_label))
    _run(connection, _statements(connection.vendor, tables=tables, rosters=rosters, create=True))


def triggers_drop(connection: Any, *, app_label: str) -> None:
    rosters = ROSTER_TABLES if app_label == "approvals" else ()
    tables = _existing(connection, tables_of(app_label))
    _run(connection, _statements(connection.vendor, tables=tables, rosters=rosters, create=False))


def all_triggers_create(connection: Any) -> None:
    for app_label in ("core", "approvals"):
        triggers_create(connection, app_label=app_label)


def all_triggers_drop(connection: Any) -> None:
    for app_label in ("core", "approvals"):
        triggers_drop(connection, app_label=app_label)


def expected_trigger_names() -> set[str]:
    names = {name for tables in APPEND_ONLY_TABLES.values() for table in tables for name in _names(table)}
    names |= {name for table in ROSTER_TABLES for name in _roster_names(table)}
    return names


def triggers_present(connection: Any) -> set[str]:
    """The names of our append-only triggers that exist in the database."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            return set()
        found = {row[0] for row in cursor.fetchall()}
    return found & expected_trigger_names()


def table_triggers_create(connection: Any, *, tables: tuple[str, ...]) -> None:
    """The append-only triggers of ``tables`` only (a migration that adds one table)."""
    _run(connection, _statements(connection.vendor, tables=tables, rosters=(), create=True))


def table_triggers_drop(connection: Any, *, tables: tuple[str, ...]) -> None:
    _run(connection, _statements(connection.vendor, tables=tables, rosters=(), create=False))
