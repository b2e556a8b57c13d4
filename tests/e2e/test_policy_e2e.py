"""Preferential policies in a real browser: the enterprise sees that it is eligible and why, and
applies; the policy office approves on the review page; the auditor opens the eligibility
decision and replays it."""

import pytest

from approvals.organisation.roles import StaffRole
from credit.policies.models import ApplicationStatus, EligibilityDecision, PolicyApplication, PolicyGrant
from tests import factories
from tests.credit.test_policy_services import make_policy
from tests.e2e import helpers

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def shot(page, name):
    helpers.shot(page, f"policy_{name}")


def log_in(browser, base_url, user):
    return helpers.log_in(browser, base_url, user, language="en")


def test_apply_approve_and_replay_in_the_browser(browser, live_server, owner, enterprise, auditor):
    loan = make_policy("sy-loan", kind="loan_guarantee")
    office = factories.staff_with_role(StaffRole.POLICY_OFFICE)
    base = live_server.url

    # The enterprise sees it is eligible, and applies.
    context, page = log_in(browser, base, owner)
    page.click("nav.site-nav a[href='/portal/policies/']")
    check_now = page.locator("form[action='/portal/policies/check/']")
    assert "No check has been made yet" in check_now.inner_text()
    check_now.locator("button[type=submit]").click()
    page.wait_for_selector("ul.messages")
    card = page.locator(f"#policy-{loan.code}")
    assert "Eligible" in card.inner_text()
    assert "Credit grade B or better" in card.inner_text()
    shot(page, "1_eligibility")
    card.locator(f"a[href^='/portal/policies/{loan.pk}/apply/']").click()
    page.fill("#id_requested_amount", "2000000")
    page.fill("#id_requested_term_months", "24")
    page.fill("#id_statement", "购置数控加工中心，按月还款")
    shot(page, "2_apply")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    application = PolicyApplication.objects.get()
    assert application.status == ApplicationStatus.PENDING_REVIEW
    assert "Awaiting the policy office" in page.locator("main").inner_text()
    shot(page, "3_submitted")
    context.close()

    # The policy office approves a smaller amount.
    context, page = log_in(browser, base, office)
    page.click("nav.site-nav a[href='/policy-office/']")
    page.click(f"a[href='/policy-office/applications/{application.pk}/']")
    assert "grade B" in page.locator("main").inner_text()
    page.fill("#id_approve-amount", "1500000")
    page.fill("#id_approve-note", "按评估额度批准")
    shot(page, "4_review")
    page.click("form:has(input[name=action][value=approve]) button[type=submit]")
    page.wait_for_load_state()
    grant = PolicyGrant.objects.get()
    assert str(grant.amount) == "1500000.00" and grant.granted_by == office
    context.close()

    # The enterprise sees the grant.
    context, page = log_in(browser, base, owner)
    page.goto(base + f"/portal/policies/applications/{application.pk}/")
    assert "1,500,000.00" in page.locator("main").inner_text()
    shot(page, "5_granted")
    context.close()

    # The auditor replays the decision taken on submission.
    decision = EligibilityDecision.objects.get(purpose="policy_application")
    context, page = log_in(browser, base, auditor)
    page.goto(base + "/audit/")
    page.click("a[href='/audit/eligibility/']")
    page.click(f"a[href='/audit/eligibility/{decision.pk}/']")
    assert decision.input_digest in page.locator("main").inner_text()
    page.click("form.replay-form button[type=submit]")
    page.wait_for_load_state()
    result = page.locator("#replay-result")
    assert "replay-ok" in (result.get_attribute("class") or "")
    assert "the decision agrees" in result.inner_text()
    shot(page, "6_replay")
    context.close()
