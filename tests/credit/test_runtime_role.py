"""The runtime role on PostgreSQL: it appends to the ledger, and cannot change, delete or truncate it,
nor switch its triggers off."""

from __future__ import annotations

import os

import pytest
from django.db import DatabaseError, connection, transaction

from credit.ledger.models import LedgerEntry
from tests.credit.ledger_helpers import append, runtime_role_become

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]

ROLE = f"rf_runtime_test_{os.getpid()}"


@pytest.fixture
def as_runtime_role(enterprise):  # type: ignore[no-untyped-def]
    entry = append(enterprise)
    runtime_role_become(ROLE)
    return entry


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE credit_ledgerentry SET points = 0",
        "DELETE FROM credit_ledgerentry",
        "TRUNCATE credit_ledgerentry CASCADE",
        "ALTER TABLE credit_ledgerentry DISABLE TRIGGER credit_ledgerentry_no_update",
        "ALTER TABLE credit_ledgerentry DISABLE TRIGGER ALL",
        "SET session_replication_role = replica",
        "DROP TRIGGER credit_ledgerentry_no_delete ON credit_ledgerentry",
    ],
)
def test_runtime_role_is_refused(as_runtime_role, statement):
    refused = pytest.raises(DatabaseError, match="permission denied|must be owner|append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert LedgerEntry.objects.get(pk=as_runtime_role.pk).points == as_runtime_role.points


def test_runtime_role_can_append_and_read(as_runtime_role, enterprise):
    entry = append(enterprise, "inspection_passed")
    assert entry.seq == as_runtime_role.seq + 1
    assert LedgerEntry.objects.count() == 2


def test_the_credit_tests_connect_as_the_runtime_role_when_asked():
    """Under CI's CREDIT_TEST_RUNTIME_ROLE every connection of these tests is the runtime role's."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, session_user")
        current, session = cursor.fetchone()
    assert current == (os.environ.get("CREDIT_TEST_RUNTIME_ROLE") or session)
