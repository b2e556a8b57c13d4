"""Tamper suite on PostgreSQL: with superuser rights (triggers bypassed through
``session_replication_role = replica``), every kind of tampering reaching back to the last anchor is
caught by ``ledger_verify``; the untouched ledger passes."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from credit.ledger import hashing as ledger_hashing
from credit.ledger import services as ledger_services
from credit.ledger.models import LedgerEntry
from tests import factories
from tests.credit.ledger_helpers import append, kind

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]

ENTRIES = 30
CODES = ["admin_penalty", "inspection_passed", "tax_grade_a", "wage_arrears", "commitment_fulfilled"]


@pytest.fixture
def ledger(anchor_file):
    enterprises = [factories.EnterpriseFactory() for _ in range(3)]
    for number in range(1, ENTRIES + 1):
        append(enterprises[number % 3], CODES[number % len(CODES)], days_ago=number)
        if number in (10, 20, ENTRIES):
            call_command("ledger_checkpoint", stdout=StringIO(), verbosity=0)
    return enterprises


def _verify(anchor_file) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("ledger_verify", anchor_file=str(anchor_file), stdout=out, stderr=out, verbosity=0)
    except SystemExit as exc:
        return int(exc.code), out.getvalue()
    return 0, out.getvalue()


def _as_superuser_bypassing_triggers(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        # superuser rights: back to the session's own (owner) role if the run connects as the runtime role
        cursor.execute("SET LOCAL ROLE NONE")
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params or [])
        cursor.execute("SET LOCAL session_replication_role = origin")


def _rehash_from(seq: int) -> None:
    """What a careful attacker does: recompute every hash from ``seq`` to the head."""
    prev = LedgerEntry.objects.get(seq=seq - 1).entry_hash if seq > 1 else ledger_hashing.GENESIS_HASH
    for entry in LedgerEntry.objects.filter(seq__gte=seq).select_related("enterprise").order_by("seq"):
        entry.prev_hash = prev
        entry.entry_hash = ledger_hashing.entry_hash(
            ledger_services.canonical_fields_of(entry, enterprise_uscc=entry.enterprise.uscc)
        )
        _as_superuser_bypassing_triggers(
            "UPDATE credit_ledgerentry SET prev_hash = %s, entry_hash = %s WHERE seq = %s",
            [entry.prev_hash, entry.entry_hash, entry.seq],
        )
        prev = entry.entry_hash


def test_untouched_ledger_verifies(ledger, anchor_file):
    code, output = _verify(anchor_file)
    assert code == 0, output


EDITS = [
    ("points", "-99"),
    ("reason", "'改写的理由'"),
    ("occurred_at", "occurred_at + interval '1 day'"),
    ("recorded_at", "recorded_at - interval '1 second'"),
    ("document_number", "''"),
    ("deciding_authority", "'某局'"),
    ("source_id", "'manual:999'"),
    ("hash_algorithm", "'sm3'"),
    ("kind_version", "2"),
]


@pytest.mark.parametrize("seq", [1, 11, 20, ENTRIES])
@pytest.mark.parametrize(("column", "value"), EDITS, ids=[e[0] for e in EDITS])
def test_edited_field_is_caught(ledger, anchor_file, seq, column, value):
    statement = f"UPDATE credit_ledgerentry SET {column} = {value} WHERE seq = %s"  # noqa: S608  (test constants)
    _as_superuser_bypassing_triggers(statement, [seq])
    code, output = _verify(anchor_file)
    assert code == 1 and f"#{seq}" in output


@pytest.mark.parametrize("seq", [1, 11, 20])
def test_foreign_keys_moved_are_caught(ledger, anchor_file, seq):
    other = factories.EnterpriseFactory()
    _as_superuser_bypassing_triggers("UPDATE credit_ledgerentry SET enterprise_id = %s WHERE seq = %s", [other.pk, seq])
    assert _verify(anchor_file)[0] == 1


@pytest.mark.parametrize("seq", [2, 11, 20])
def test_kind_reference_moved_is_caught(ledger, anchor_file, seq):
    entry = LedgerEntry.objects.get(seq=seq)
    revised = ledger_services.entry_kind_revise(actor=None, kind=kind(entry.kind_code), name="改名")
    _as_superuser_bypassing_triggers("UPDATE credit_ledgerentry SET kind_id = %s WHERE seq = %s", [revised.pk, seq])
    code, output = _verify(anchor_file)
    assert code == 1 and "kind_mismatch" in output


@pytest.mark.parametrize("seq", [1, 5, 15, 20, ENTRIES])
def test_deleted_row_is_caught(ledger, anchor_file, seq):
    _as_superuser_bypassing_triggers("UPDATE credit_ledgerentry SET reverses_id = NULL WHERE reverses_id = %s", [seq])
    _as_superuser_bypassing_triggers("DELETE FROM credit_ledgerentry WHERE seq = %s", [seq])
    assert _verify(anchor_file)[0] == 1


@pytest.mark.parametrize("position", [1, 7, 19, ENTRIES - 1])
def test_inserted_row_is_caught(ledger, anchor_file, position):
    """Shift the rows after ``position`` up by one and slip a well-formed entry in."""
    _as_superuser_bypassing_triggers("UPDATE credit_ledgerentry SET seq = seq + 1000 WHERE seq > %s", [position])
    _as_superuser_bypassing_triggers("UPDATE credit_ledgerentry SET seq = seq - 999 WHERE seq > 1000", [])
    template = LedgerEntry.objects.get(seq=position)
    forged = LedgerEntry(
        **{f.attname: getattr(template, f.attname) for f in LedgerEntry._meta.concrete_fields if f.attname != "seq"}
    )
    forged.seq = position + 1
    forged.points = 10
    forged.reason = "伪造的良好记录"
    forged.prev_hash = template.entry_hash
    forged.entry_hash = ledger_hashing.entry_hash(
        ledger_services.canonical_fields_of(forged, enterprise_uscc=template.enterprise.uscc)
    )
    forged.save(force_insert=True)
    assert _verify(anchor_file)[0] == 1


@pytest.mark.parametrize("position", [ENTRIES + 1, ENTRIES + 5])
def test_copied_row_is_caught(ledger, anchor_file, position):
    """A copy of an old entry (say, a good-conduct record) replayed at the end, with or without a gap."""
    template = LedgerEntry.objects.get(seq=5)
    forged = LedgerEntry(
        **{f.attname: getattr(template, f.attname) for f in LedgerEntry._meta.concrete_fields if f.attname != "seq"}
    )
    forged.seq = position
    forged.entry_hash = "a" * 64
    forged.save(force_insert=True)
    assert _verify(anchor_file)[0] == 1


@pytest.mark.parametrize(("first", "second"), [(1, 2), (5, 9), (19, 21), (ENTRIES - 1, ENTRIES)])
def test_reordered_rows_are_caught(ledger, anchor_file, first, second):
    _as_superuser_bypassing_triggers("UPDATE credit_ledgerentry SET seq = 100000 WHERE seq = %s", [first])
    _as_superuser_bypassing_triggers("UPDATE credit_ledgerentry SET seq = %s WHERE seq = %s", [first, second])
    _as_superuser_bypassing_triggers("UPDATE credit_ledgerentry SET seq = %s WHERE seq = 100000", [second])
    assert _verify(anchor_file)[0] == 1


@pytest.mark.parametrize("start", [1, 12, 20, 25, ENTRIES])
def test_rewritten_tail_with_recomputed_hashes_is_caught(ledger, anchor_file, start):
    _as_superuser_bypassing_triggers("UPDATE credit_ledgerentry SET points = 0 WHERE seq >= %s", [start])
    _rehash_from(start)
    # the chain itself is consistent again: only the anchors can tell
    code, output = _verify(anchor_file)
    assert code == 1 and "anchor_mismatch" in output


@pytest.mark.parametrize("keep", [0, 5, 19, 25, ENTRIES - 1])
def test_truncated_tail_is_caught(ledger, anchor_file, keep):
    _as_superuser_bypassing_triggers("UPDATE credit_ledgerentry SET reverses_id = NULL WHERE seq > %s", [keep])
    _as_superuser_bypassing_triggers("DELETE FROM credit_ledgerentry WHERE seq > %s", [keep])
    code, output = _verify(anchor_file)
    assert code == 1 and "anchor_missing" in output


def test_appending_after_the_last_anchor_still_verifies(ledger, anchor_file, enterprise):
    """The documented limit: entries after the last anchor are only as good as the chain itself,
    so a legitimate append (or a forged one written with the service's own rules) verifies."""
    append(enterprise, occurred_at=datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC))
    assert _verify(anchor_file)[0] == 0
