"""Registration, log-in and the language switch, in a real browser."""

from pathlib import Path

import pytest

from credit.models import Membership
from tests import factories

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parent / "artifacts"


def test_enterprise_user_registers_and_waits_for_confirmation(page):
    page.goto(page.base_url + "/accounts/register/")
    assert page.locator("h1").inner_text() == "注册企业账号"  # Chinese first, whatever the browser says
    page.fill("#id_username", "browseruser")
    page.fill("#id_display_name", "浏览器用户")
    page.fill("#id_email", "browser@example.invalid")
    page.fill("#id_phone", "13812345678")
    page.fill("#id_password1", "a-long-browser-passphrase")
    page.fill("#id_password2", "a-long-browser-passphrase")
    page.fill("#id_uscc", "9111 0000 6000 3734 1x")  # wrong check digit first
    page.fill("#id_enterprise_name", "浏览器测试有限公司")
    page.fill("#id_legal_representative", "浏览器用户")
    page.check("input[value=legal_rep]")
    page.click("main form button[type=submit]")
    assert "校验码" in page.locator(".field.has-error .errorlist").inner_text()

    page.fill("#id_password1", "a-long-browser-passphrase")
    page.fill("#id_password2", "a-long-browser-passphrase")
    page.fill("#id_uscc", "9111 0000 6000 3734 1l")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/portal/")
    assert "待确认" in page.locator("main").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "portal_pending.png"), full_page=True)
    membership = Membership.objects.get(user__username="browseruser")
    assert membership.status == Membership.Status.PENDING
    assert membership.enterprise.uscc == "91110000600037341L"


def test_log_in_and_switch_to_english(page):
    member = factories.MembershipFactory(confirmed=True)
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", member.user.username)
    page.fill("#id_password", factories.PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/portal/")
    assert member.enterprise.name in page.locator("main").inner_text()
    page.select_option("#language-select", "en")
    page.click(".lang-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Enterprise portal"
    assert page.get_attribute("html", "lang") == "en"
