"""The demo credit history: A–D all occur, one repair, one reversal, one checkpoint; idempotent."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from core.models import AuditEvent
from credit.ledger import selectors as ledger_selectors
from credit.ledger.models import CreditRequest, LedgerEntry
from credit.ledger.verify import ledger_verify
from credit.models import Enterprise

pytestmark = pytest.mark.django_db


def test_demo_history_covers_every_grade_and_is_idempotent(anchor_file):
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    entries = LedgerEntry.objects.count()
    assert entries >= 200
    grades = {ledger_selectors.credit_grade_as_of(enterprise=e).grade for e in Enterprise.objects.all()}
    assert grades == {"A", "B", "C", "D"}
    assert LedgerEntry.objects.filter(kind_code="repair", reverses__isnull=False).count() == 1
    assert LedgerEntry.objects.filter(kind_code="reversal", reverses__isnull=False).count() == 1
    assert CreditRequest.objects.filter(status="granted").count() == 2
    assert anchor_file.read_text().count("\n") == 1
    assert ledger_verify(anchor_file=anchor_file).intact
    events = AuditEvent.objects.count()

    out = StringIO()
    call_command("seed_credit_demo", stdout=out, stderr=StringIO())
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    assert "nothing changed" in out.getvalue()
    assert LedgerEntry.objects.count() == entries
    assert AuditEvent.objects.count() == events
    assert anchor_file.read_text().count("\n") == 1  # no second checkpoint
