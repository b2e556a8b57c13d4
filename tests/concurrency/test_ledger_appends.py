"""20 writers × 100 appends on PostgreSQL: no gap, no fork, the chain verifies."""

from __future__ import annotations

import os

import pytest

from credit.ledger.models import LedgerEntry, LedgerHead
from credit.ledger.verify import chain_verify
from tests import factories
from tests.concurrency.conftest import run_concurrently
from tests.credit.ledger_helpers import append, kind, runtime_role_connections

# Under CREDIT_TEST_RUNTIME_ROLE (CI) the writers connect as the runtime role.
connected_as_runtime_role = pytest.fixture(scope="module")(runtime_role_connections)
pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("connected_as_runtime_role"),
]

THREADS = 20
APPENDS = 100


def test_concurrent_appends_never_fork_or_leave_a_gap():
    enterprises = [factories.EnterpriseFactory() for _ in range(THREADS)]
    kind("admin_penalty")

    def writer(enterprise):  # type: ignore[no-untyped-def]
        def run() -> int:
            for _ in range(APPENDS):
                append(enterprise, days_ago=1)
            return APPENDS

        return run

    results = run_concurrently(*(writer(e) for e in enterprises), timeout=240)
    assert results == [APPENDS] * THREADS, [r for r in results if not isinstance(r, int)][:3]
    seqs = list(LedgerEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, THREADS * APPENDS + 1))
    prevs = list(LedgerEntry.objects.values_list("prev_hash", flat=True))
    assert len(set(prevs)) == len(prevs)  # no two entries share a predecessor: no fork
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        role = cursor.fetchone()[0]
    if os.environ.get("CREDIT_TEST_RUNTIME_ROLE"):
        assert role == os.environ["CREDIT_TEST_RUNTIME_ROLE"]
    report = chain_verify(anchors=[])
    assert report.intact and report.checked == THREADS * APPENDS
    assert LedgerHead.objects.get().seq == THREADS * APPENDS
    recorded = list(LedgerEntry.objects.order_by("seq").values_list("recorded_at", flat=True))
    assert recorded == sorted(recorded)  # recorded_at never goes backwards along the chain


def test_two_concurrent_repairs_of_one_entry_append_one():
    from core.exceptions import DomainError

    enterprise = factories.EnterpriseFactory()
    original = append(enterprise, days_ago=200)
    results = run_concurrently(
        *(lambda: append(enterprise, "repair", reverses=original, days_ago=0) for _ in range(4)), timeout=60
    )
    appended = [r for r in results if isinstance(r, LedgerEntry)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(appended) == 1 and len(refused) == 3, results
    assert {r.code for r in refused} == {"already_ended"}
    assert LedgerEntry.objects.filter(reverses=original).count() == 1
