"""One whole approval in a real browser: the enterprise files, the window accepts, two
departments review, the lead department decides, and anyone verifies the certificate."""

import pytest

from approvals.models import Application, Certificate
from tests.e2e import helpers
from tests.workflows.conftest import make_item

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def shot(page, name):
    helpers.shot(page, f"journey_{name}")


def log_in(browser, base_url, user):
    return helpers.log_in(browser, base_url, user)


def work_task(browser, base_url, user, fill, name):
    context, page = log_in(browser, base_url, user)
    page.goto(base_url + "/workbench/")
    page.click("form[action$='/claim/'] button >> nth=0")
    page.wait_for_load_state()
    fill(page)
    shot(page, name)
    page.click("main form button[type=submit] >> nth=0")
    page.wait_for_load_state()
    context.close()


def test_file_accept_review_decide_verify(browser, live_server, bureau, owner, enterprise):  # noqa: F811
    version = make_item(bureau, co_review=2, code="SC-E2E")
    base = live_server.url

    # The enterprise files from the public service guide.
    context, page = log_in(browser, base, owner)
    page.goto(base + "/services/SC-E2E/")
    page.click("main a.button")
    helpers.filing_fill(
        page, version, project_name="浑南店", project_address="沈阳市浑南区创新路 1 号", description="新开食品门店"
    )
    shot(page, "1_file")
    page.click("button[name=submit]")
    page.wait_for_url("**/submitted/")
    application = Application.objects.get()
    assert application.reference in page.locator("main").inner_text()
    context.close()

    def accept(p):
        p.check("input[name=decision][value=accept]")

    def agree(p):
        p.check("input[name=outcome][value=agree]")
        p.fill("#id_reasons", "符合要求")

    def approve(p):
        p.check("input[name=outcome][value=approved]")

    work_task(browser, base, bureau.desk_user, accept, "2_accept")
    for department in bureau.co[:2]:
        work_task(browser, base, bureau.reviewers[department.pk], agree, f"3_review_{department.pk}")
    work_task(browser, base, bureau.decider, approve, "4_decide")

    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    certificate = Certificate.objects.get(application=application)

    # Anyone verifies the certificate on the public page, without logging in.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base + "/verify/")
    page.fill("#number", certificate.number)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    body = page.locator("main").inner_text()
    assert certificate.number in body and enterprise.name in body
    assert page.locator(".verify-valid").count() == 1
    shot(page, "5_verify")
    context.close()
