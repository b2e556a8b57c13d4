"""Verification split over processes finds exactly what one pass finds (PostgreSQL, committed data)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from credit.ledger import verify as ledger_verify
from tests import factories
from tests.credit.ledger_helpers import append

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _tamper(sql: str, params: list) -> None:  # type: ignore[type-arg]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL ROLE NONE")
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


def _problems(report: ledger_verify.VerifyReport) -> list[tuple[int, str]]:
    return sorted((p.seq, p.code) for p in report.problems)


def test_parallel_verification_equals_one_pass(anchor_file, monkeypatch):
    monkeypatch.setattr(ledger_verify, "PARALLEL_MIN_ENTRIES", 10)
    enterprises = [factories.EnterpriseFactory() for _ in range(3)]
    for number in range(1, 61):
        append(enterprises[number % 3], days_ago=number % 20)
        if number in (30, 60):
            call_command("ledger_checkpoint", stdout=StringIO(), verbosity=0)
    anchors = ledger_verify.anchors_read(anchor_file)
    parallel = ledger_verify.chain_verify(anchors=anchors, workers=4)
    assert parallel.intact and parallel.checked == 60 and parallel.anchors_checked == 2
    assert (parallel.head_seq, parallel.head_hash) == (60, ledger_verify.chain_verify(anchors=anchors).head_hash)

    _tamper("UPDATE credit_ledgerentry SET reason = 'x' WHERE seq = %s", [20])
    _tamper("DELETE FROM credit_ledgerentry WHERE seq = %s", [45])  # the first row of a range: 45 = 3 × 15
    _tamper("DELETE FROM credit_ledgerentry WHERE seq = %s", [16])
    one_pass = ledger_verify.chain_verify(anchors=anchors)
    parallel = ledger_verify.chain_verify(anchors=anchors, workers=4)
    assert not parallel.intact
    assert {code for _seq, code in _problems(parallel)} >= {"hash_mismatch", "gap", "link_broken"}
    assert {seq for seq, code in _problems(parallel) if code == "gap"} == {
        seq for seq, code in _problems(one_pass) if code == "gap"
    }
    assert {seq for seq, code in _problems(parallel) if code == "hash_mismatch"} == {20}
