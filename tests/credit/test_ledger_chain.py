"""The append-only, hash-chained ledger: appends, triggers, checkpoint and verify."""

from __future__ import annotations

import hashlib
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction

from core.exceptions import DomainError
from core.models import AuditEvent
from credit.ledger import hashing as ledger_hashing
from credit.ledger import services as ledger_services
from credit.ledger.models import LedgerEntry, LedgerHead
from credit.ledger.triggers import TRIGGER_NAMES, triggers_present
from tests import factories
from tests.credit.ledger_helpers import append, kind

pytestmark = pytest.mark.django_db


def _verify(anchor_file) -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("ledger_verify", anchor_file=str(anchor_file), stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code), out.getvalue() + err.getvalue()
    return 0, out.getvalue()


def test_append_chains_entries_without_gaps_and_audits(enterprise):
    first = append(enterprise)
    second = append(enterprise, "inspection_passed")
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == ledger_hashing.GENESIS_HASH
    assert second.prev_hash == first.entry_hash
    assert first.hash_algorithm == "sha256" and first.canonical_version == 1
    head = LedgerHead.objects.get()
    assert (head.seq, head.entry_hash) == (2, second.entry_hash)
    assert AuditEvent.objects.filter(action="credit.entry_appended").count() == 2


def test_hash_is_recomputable_from_the_canonical_form(enterprise):
    entry = append(enterprise)
    fields = ledger_services.canonical_fields_of(entry, enterprise_uscc=enterprise.uscc)
    data = ledger_hashing.canonical_bytes(fields)
    assert hashlib.sha256(data).hexdigest() == entry.entry_hash
    document = json.loads(data)
    assert document["v"] == 1 and document["enterprise_uscc"] == enterprise.uscc
    # people are referenced by id, never copied
    assert "recorded_by" in document and enterprise.legal_representative not in data.decode()


def test_sm3_is_selectable(enterprise, settings):
    settings.CREDIT_LEDGER_HASH_ALGORITHM = "sm3"
    entry = append(enterprise)
    fields = ledger_services.canonical_fields_of(entry, enterprise_uscc=enterprise.uscc)
    assert entry.hash_algorithm == "sm3"
    assert hashlib.new("sm3", ledger_hashing.canonical_bytes(fields)).hexdigest() == entry.entry_hash


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"reason": "  "}, "reason_required"),
        ({"deciding_authority": ""}, "authority_required"),
        ({"points": 5}, "points_sign_mismatch"),
        ({"days_ago": -30}, "occurred_in_future"),
        ({"source_type": "approvals.application"}, "source_type_unknown"),
    ],
)
def test_append_refuses_bad_input_and_writes_nothing(enterprise, changes, code):
    with pytest.raises(DomainError) as caught:
        append(enterprise, **changes)
    assert caught.value.code == code
    assert LedgerEntry.objects.count() == 0


def test_repair_needs_a_target_of_the_same_enterprise(enterprise, peer_enterprise):
    original = append(enterprise)
    with pytest.raises(DomainError) as caught:
        append(enterprise, "repair")
    assert caught.value.code == "reverses_required"
    with pytest.raises(DomainError) as caught:
        append(peer_enterprise, "repair", reverses=original)
    assert caught.value.code == "reverses_other_enterprise"
    append(enterprise, "repair", reverses=original, days_ago=0)
    with pytest.raises(DomainError) as caught:
        append(enterprise, "reversal", reverses=original, days_ago=0)
    assert caught.value.code == "already_ended"


def test_orm_update_and_delete_are_refused_by_the_database(enterprise):
    entry = append(enterprise)
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(points=-1)
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE credit_ledgerentry SET reason = 'x'")
    assert LedgerEntry.objects.get(pk=entry.pk).points == entry.points


def test_triggers_survive_the_last_migration():
    """The test database was built by running every migration: the triggers must still exist
    (on SQLite a table rebuild in a later migration would have dropped them)."""
    assert triggers_present(connection) == set(TRIGGER_NAMES)


@pytest.mark.django_db(transaction=True)
def test_flush_still_works_and_keeps_the_triggers(enterprise):
    append(enterprise)
    call_command("flush", interactive=False, verbosity=0)
    assert LedgerEntry.objects.count() == 0
    assert triggers_present(connection) == set(TRIGGER_NAMES)
    assert LedgerHead.objects.get().seq == 0  # post_migrate re-created the head and the catalogue
    assert kind("court_dishonest_debtor").forces_grade_d


def test_checkpoint_writes_once_then_nothing_when_unchanged(enterprise, anchor_file):
    append(enterprise)
    out = StringIO()
    call_command("ledger_checkpoint", stdout=out, verbosity=0)
    assert anchor_file.read_text().count("\n") == 1
    assert '"seq":1' in out.getvalue()
    again = StringIO()
    call_command("ledger_checkpoint", stdout=again, verbosity=0)
    assert anchor_file.read_text().count("\n") == 1
    assert "unchanged" in again.getvalue()
    append(enterprise)
    call_command("ledger_checkpoint", stdout=StringIO(), verbosity=0)
    assert [json.loads(line)["seq"] for line in anchor_file.read_text().splitlines()] == [1, 2]


def test_verify_exit_codes(enterprise, anchor_file, tmp_path):
    append(enterprise)
    assert _verify(anchor_file)[0] == 2  # no anchor file yet
    call_command("ledger_checkpoint", stdout=StringIO(), verbosity=0)
    code, output = _verify(anchor_file)
    assert code == 0 and "INTACT" in output
    unreadable = tmp_path / "garbage.jsonl"
    unreadable.write_text("not json\n")
    assert _verify(unreadable)[0] == 2
    directory = tmp_path / "adir"
    directory.mkdir()
    assert _verify(directory)[0] == 2


def test_verify_catches_a_forged_anchor(enterprise, anchor_file):
    append(enterprise)
    anchor_file.write_text(json.dumps({"seq": 1, "hash": "f" * 64, "at": "2026-01-01T00:00:00Z"}) + "\n")
    code, output = _verify(anchor_file)
    assert code == 1 and "anchor_mismatch" in output


def test_checkpoint_refuses_a_ledger_that_no_longer_matches_its_anchor(enterprise, anchor_file):
    append(enterprise)
    anchor_file.write_text(json.dumps({"seq": 1, "hash": "e" * 64, "at": "2026-01-01T00:00:00Z"}) + "\n")
    with pytest.raises(CommandError):
        call_command("ledger_checkpoint", stdout=StringIO(), verbosity=0)
    assert anchor_file.read_text().count("\n") == 1


def test_kind_revision_creates_a_new_version_and_keeps_old_entries(enterprise):
    penalty = kind("admin_penalty")
    entry = append(enterprise)
    revised = ledger_services.entry_kind_revise(actor=None, kind=penalty, default_points=-20)
    assert (revised.version, revised.default_points, revised.is_current) == (2, -20, True)
    penalty.refresh_from_db()
    assert not penalty.is_current
    entry.refresh_from_db()
    assert (entry.kind_version, entry.points) == (1, -15)
    with pytest.raises(DomainError) as caught:
        ledger_services.entry_kind_revise(actor=None, kind=revised, max_window_months=48)
    assert caught.value.code == "kind_invalid"


def test_seq_fixture_factories_are_independent():
    assert factories.EnterpriseFactory().pk
