"""CSV import of other authorities' records and manual entries (four-eyes) at the service level."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from core.exceptions import DomainError
from credit.ledger import services as ledger_services
from credit.ledger.models import ImportBatch, LedgerEntry, ManualEntryProposal
from tests import factories
from tests.credit.ledger_helpers import kind

pytestmark = pytest.mark.django_db

HEADER = "uscc,kind,occurred_on,document_number,legal_basis,reason\n"


def _csv(*rows: str) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode("utf-8")


def test_bad_rows_are_reported_and_nothing_is_written(enterprise):
    content = _csv(
        f"{enterprise.uscc},court_dishonest_debtor,2026-03-01,(2026)辽01执123号,,列入失信名单",
        "911101086000373419,court_dishonest_debtor,2026-03-01,(2026)辽01执124号,,",  # unknown enterprise? maybe bad
        f"{enterprise.uscc},no_such_kind,2026-03-01,(2026)辽01执125号,,",
        f"{enterprise.uscc},court_dishonest_debtor,2026-02-30,(2026)辽01执126号,,",
        "not-a-code,court_dishonest_debtor,2026-03-01,(2026)辽01执127号,,",
    )
    report = ledger_services.ledger_import_csv(actor=None, file_name="court.csv", content=content, authority="沈阳中院")
    codes = [code for _line, code, _detail in report.rejected]
    assert codes[1:] == ["kind_unknown", "date_invalid", "uscc_invalid"]
    assert codes[0] in ("enterprise_unknown", "uscc_invalid")
    assert [line for line, _c, _d in report.rejected] == [3, 4, 5, 6]
    assert LedgerEntry.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_good_rows_go_in_and_reimport_adds_nothing(enterprise, peer_enterprise):
    content = _csv(
        f"{enterprise.uscc},court_dishonest_debtor,2026-03-01,(2026)辽01执123号,民事诉讼法,列入失信名单",
        f"{peer_enterprise.uscc},tax_grade_a,2026-04-15,沈税信〔2026〕1号,,2025年度纳税信用A级",
    )
    report = ledger_services.ledger_import_csv(actor=None, file_name="a.csv", content=content, authority="外部")
    assert (report.added, report.duplicates, report.rejected) == (2, 0, [])
    again = ledger_services.ledger_import_csv(actor=None, file_name="a.csv", content=content, authority="外部")
    assert again.already_imported and LedgerEntry.objects.count() == 2
    # the same records in another file are duplicates, not new entries
    other = content + b"\n"
    third = ledger_services.ledger_import_csv(actor=None, file_name="b.csv", content=other, authority="外部")
    assert (third.added, third.duplicates) == (0, 2)
    assert LedgerEntry.objects.count() == 2
    entry = LedgerEntry.objects.get(enterprise=enterprise)
    assert entry.source_type == "import_batch" and entry.source_id.startswith("import:")


def test_import_refuses_unreadable_files():
    with pytest.raises(DomainError) as caught:
        ledger_services.ledger_import_csv(actor=None, file_name="x", content=b"\xff\xfe\x00", authority="a")
    assert caught.value.code == "file_unreadable"
    with pytest.raises(DomainError) as caught:
        ledger_services.ledger_import_csv(actor=None, file_name="x", content=b"a,b\n1,2\n", authority="a")
    assert caught.value.code == "columns_missing"


def test_import_screen_shows_the_report(client, enterprise):
    officer = factories.staff_with_role("credit_office")
    client.force_login(officer)
    bad = SimpleUploadedFile("bad.csv", _csv(f"{enterprise.uscc},nope,2026-03-01,1号,,"), "text/csv")
    response = client.post(reverse("credit_office:import"), {"authority": "沈阳中院", "file": bad})
    assert response.status_code == 400 and response.context["report"].rejected
    good = SimpleUploadedFile("ok.csv", _csv(f"{enterprise.uscc},tax_grade_a,2026-03-01,1号,,"), "text/csv")
    response = client.post(reverse("credit_office:import"), {"authority": "沈阳税务", "file": good})
    assert response.status_code == 200 and response.context["report"].added == 1


def test_maker_cannot_approve_own_proposal(enterprise):
    maker = factories.staff_with_role("credit_office")
    checker = factories.staff_with_role("credit_office")
    proposal = ledger_services.manual_entry_propose(
        actor=maker,
        enterprise=enterprise,
        kind=kind("manual_adjustment"),
        points=-5,
        occurred_on=timezone.localdate() - datetime.timedelta(days=3),
        deciding_authority="信用办",
        reason="r",
        justification="j",
    )
    with pytest.raises(DomainError) as caught:
        ledger_services.manual_entry_approve(actor=maker, proposal=proposal)
    assert caught.value.code == "four_eyes"
    with pytest.raises(DomainError) as caught:
        ledger_services.manual_entry_reject(actor=maker, proposal=proposal, note="n")
    assert caught.value.code == "four_eyes"
    assert LedgerEntry.objects.count() == 0
    entry = ledger_services.manual_entry_approve(actor=checker, proposal=proposal)
    assert (entry.recorded_by, entry.approved_by) == (maker, checker)
    with pytest.raises(DomainError) as caught:
        ledger_services.manual_entry_approve(actor=checker, proposal=proposal)
    assert caught.value.code == "already_decided"


def test_manual_entry_needs_justification_and_credit_office(enterprise, auditor):
    maker = factories.staff_with_role("credit_office")
    values = {
        "enterprise": enterprise,
        "kind": kind("manual_adjustment"),
        "points": -5,
        "occurred_on": timezone.localdate(),
        "deciding_authority": "信用办",
        "reason": "r",
    }
    with pytest.raises(DomainError) as caught:
        ledger_services.manual_entry_propose(actor=maker, justification=" ", **values)
    assert caught.value.code == "justification_required"
    with pytest.raises(DomainError) as caught:
        ledger_services.manual_entry_propose(actor=auditor, justification="j", **values)
    assert caught.value.code == "not_credit_office"
    assert ManualEntryProposal.objects.count() == 0


def test_import_command_reports_and_is_idempotent(enterprise, tmp_path):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv(f"{enterprise.uscc},tax_grade_a,2026-13-01,1号,,"))
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("ledger_import", str(bad), authority="税务", stdout=out, stderr=StringIO())
    assert "date_invalid" in out.getvalue() and LedgerEntry.objects.count() == 0
    good = tmp_path / "good.csv"
    good.write_bytes(_csv(f"{enterprise.uscc},tax_grade_a,2026-03-01,1号,,"))
    call_command("ledger_import", str(good), authority="税务", stdout=StringIO(), stderr=StringIO())
    call_command("ledger_import", str(good), authority="税务", stdout=StringIO(), stderr=StringIO())
    assert LedgerEntry.objects.count() == 1
