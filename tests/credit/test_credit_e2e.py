"""The enterprise's credit page and a repair request, then the credit office's decision, in a real
browser (Debian's Chromium; skipped without it unless --require-browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

from credit.ledger.models import CreditRequest, LedgerEntry
from tests import factories
from tests.credit.ledger_helpers import append

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[1] / "e2e" / "artifacts"


def _log_in(page, user) -> None:  # type: ignore[no-untyped-def]
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", factories.PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def test_enterprise_requests_repair_and_the_credit_office_grants_it(page, browser):
    membership = factories.MembershipFactory(confirmed=True)
    enterprise = membership.enterprise
    original = append(enterprise, "admin_penalty", days_ago=150)
    append(enterprise, "inspection_passed", days_ago=20)
    _log_in(page, membership.user)
    page.goto(f"{page.base_url}/portal/enterprises/{enterprise.pk}/credit/")
    assert page.locator(".grade").inner_text() == "C"  # 80 − 15 + 3 = 68
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "credit_enterprise.png"), full_page=True)
    assert page.locator("svg.score-chart polyline").count() == 1

    page.click(f"a[href$='/entries/{original.seq}/repair/']")
    page.fill("#id_statement", "已缴纳罚款并完成整改")
    page.fill("#id_evidence", "缴款凭证、整改报告")
    page.fill("#id_commitment", "本企业承诺依法诚信经营")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**/portal/enterprises/{enterprise.pk}/credit/")
    request = CreditRequest.objects.get()
    assert request.kind == "repair" and request.status == "pending"

    officer = factories.staff_with_role("credit_office")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    office = context.new_page()
    office.base_url = page.base_url
    _log_in(office, officer)
    office.goto(f"{page.base_url}/credit-office/requests/{request.pk}/")
    office.check("input[value=grant]")
    office.fill("#id_reason", "整改到位，准予修复")
    office.click("main form button[type=submit]")
    office.wait_for_url("**/credit-office/")
    context.close()
    request.refresh_from_db()
    assert request.status == "granted"
    assert LedgerEntry.objects.filter(reverses=original, kind_code="repair").exists()

    page.goto(f"{page.base_url}/portal/enterprises/{enterprise.pk}/credit/")
    assert page.locator(".grade").inner_text() == "B"  # 80 + 3: the repaired penalty no longer counts
    entries_card = page.locator("main section.card").nth(1).inner_text()  # the repaired entry is hidden
    assert f"#{original.seq}\t" not in entries_card and "#2" in entries_card
    page.screenshot(path=str(SHOTS / "credit_enterprise_repaired.png"), full_page=True)
