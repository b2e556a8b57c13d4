"""The database's own check that a re-rating follows the first rating of the same case: a check
constraint sees one row only, so a trigger looks at the row the re-rating names. Created by the
migration that adds the table (with the append-only triggers of ``core.append_only``)."""

from __future__ import annotations

from typing import Any

TRIGGER = "approvals_rating_follows_first"
_MESSAGE = "a re-rating follows the first rating of the same application"
_FOLLOWS_OTHER = (
    "NEW.follows_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM approvals_rating f "
    "WHERE f.id = NEW.follows_id AND f.application_id = NEW.application_id AND f.round = 1)"
)


def _statements(vendor: str, *, create: bool) -> list[str]:
    if vendor == "postgresql":
        statements = [f"DROP TRIGGER IF EXISTS {TRIGGER} ON approvals_rating"]
        if create:
            statements += [
                f"""
                CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger AS $$
                BEGIN
                    IF {_FOLLOWS_OTHER} THEN
                        RAISE EXCEPTION '{_MESSAGE}' USING ERRCODE = 'check_violation';
                    END IF;
                    RETURN NEW;
                END;
                $$ LANGUAGE plpgsql
                """,
                f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON approvals_rating FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()",
            ]
        else:
            statements.append(f"DROP FUNCTION IF EXISTS {TRIGGER}()")
        return statements
    if vendor == "sqlite":
        statements = [f"DROP TRIGGER IF EXISTS {TRIGGER}"]
        if create:
            statements.append(
                f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON approvals_rating WHEN {_FOLLOWS_OTHER} "
                f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
            )
        return statements
    return []


def follows_trigger_create(connection: Any) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, create=True):
            cursor.execute(statement)


def follows_trigger_drop(connection: Any) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, create=False):
            cursor.execute(statement)


def follows_trigger_present(connection: Any) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM pg_trigger WHERE tgname = %s", [TRIGGER])
        else:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = %s", [TRIGGER])
        return cursor.fetchone() is not None
