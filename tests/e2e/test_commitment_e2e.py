"""The commitment route in a real browser: the enterprise files on the commitment route, reads and
signs the notification, gets the certificate at once; an inspector of the pair records the
verification; the public verification page shows the certificate revoked after a false
commitment."""

import pytest

from approvals.models import Application, Certificate, InspectionTask
from tests.e2e import helpers
from tests.workflows.test_commitment_flow import CHECKLIST, supervision  # noqa: F401  (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def shot(page, name):
    helpers.shot(page, f"commitment_{name}")


def log_in(browser, base_url, user):
    return helpers.log_in(browser, base_url, user)


def test_sign_verify_and_revoke_in_the_browser(browser, live_server, bureau, owner, enterprise, supervision):  # noqa: F811
    version = supervision["version"]
    base = live_server.url

    # The enterprise files on the commitment route from the service guide.
    context, page = log_in(browser, base, owner)
    page.goto(base + f"/services/{version.item.code}/")
    shot(page, "1_guide")
    page.click("main a.button")
    helpers.filing_fill(
        page, version, project_name="小南街作坊", project_address="沈阳市沈河区小南街 18 号", description="豆制品加工"
    )
    page.click("button[name=commitment]")
    page.wait_for_url("**/commitment/")
    assert "申请人承诺" in page.locator("main").inner_text()
    page.fill("#id_signer_name", enterprise.legal_representative)
    page.check("#id_confirmed")
    shot(page, "2_sign")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    application = Application.objects.get()
    assert application.status == Application.Status.APPROVED
    certificate = Certificate.objects.get(application=application)
    assert certificate.number in page.locator("main").inner_text()
    shot(page, "3_approved")
    context.close()

    # An inspector of the pair records a false commitment.
    task = InspectionTask.objects.get(application=application)
    context, page = log_in(browser, base, task.inspector_1)
    page.goto(base + "/workbench/")
    page.click("a[href='/workbench/inspections/']")
    page.click(f"a[href='/workbench/inspections/{task.pk}/']")
    for index in range(len(CHECKLIST)):
        page.check(f"input[name=check_{index}][value=not_ok]")
    page.fill("#id_findings", "登记地址无生产加工场所")
    page.check("input[name=result][value=false_commitment]")
    shot(page, "4_inspect")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    task.refresh_from_db()
    assert task.outcome == InspectionTask.Outcome.REVOKED
    context.close()

    # Anyone sees the revocation and its reason on the public verification page.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base + f"/verify/{certificate.verification_code}/")
    assert "登记地址无生产加工场所" in page.locator("main").inner_text()
    shot(page, "5_public")
    context.close()
