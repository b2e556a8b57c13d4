import pytest
from django.urls import reverse

from core.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db


def _login(client, username, password, ip):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_login_and_logout(client):
    user = factories.UserFactory()
    response = _login(client, user.username, factories.PASSWORD, "10.0.0.1")
    assert response.status_code == 302
    assert client.get(reverse("portal:home")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("portal:home")).status_code == 302


def test_passwords_are_hashed_with_argon2():
    assert factories.UserFactory().password.startswith("argon2$")


def test_axes_locks_the_user_and_ip_pair_not_the_user(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = factories.UserFactory()
    for _ in range(3):
        _login(client, user.username, "wrong-password", "198.51.100.7")
    # The attacker's address is now locked out, even with the right password.
    locked = _login(client, user.username, factories.PASSWORD, "198.51.100.7")
    assert locked.status_code == 429
    # The real user, elsewhere, still gets in.
    client.cookies.clear()
    elsewhere = _login(client, user.username, factories.PASSWORD, "203.0.113.20")
    assert elsewhere.status_code == 302


def test_axes_does_not_lock_other_users_from_the_same_ip(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    victim, colleague = factories.UserFactory(), factories.UserFactory()
    for _ in range(3):
        _login(client, victim.username, "wrong-password", "198.51.100.7")
    assert _login(client, colleague.username, factories.PASSWORD, "198.51.100.7").status_code == 302


def test_wrong_password_is_a_form_error_not_a_crash(client):
    response = _login(client, "nobody", "whatever", "10.0.0.2")
    assert response.status_code == 200
    assert response.context["form"].errors


def test_password_change(client):
    user = factories.UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": factories.PASSWORD,
            "new_password1": "another-long-passphrase-42",
            "new_password2": "another-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-long-passphrase-42")


def test_chinese_is_the_default_language(client):
    response = client.get(reverse("home"))
    assert response["Content-Language"] == "zh-hans"
    assert "登录" in response.content.decode()


def test_language_switch_renders_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"}, follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert response["Content-Language"] == "en"
    assert "Log in" in body
    assert "登录" not in body


def test_every_page_offers_the_language_switcher(client):
    body = client.get(reverse("login")).content.decode()
    assert 'action="/i18n/setlang/"' in body
    assert 'value="en"' in body and 'value="zh-hans"' in body


def test_registration_is_audited(client):
    client.post(
        reverse("register"),
        {
            "username": "audited",
            "display_name": "孙七",
            "email": "s@example.invalid",
            "phone": "13700000000",
            "password1": "a-long-and-unusual-passphrase",
            "password2": "a-long-and-unusual-passphrase",
            "uscc": "91110000600037341L",
            "enterprise_name": "某公司",
            "legal_representative": "孙七",
            "role": "legal_rep",
        },
    )
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"user.registered", "enterprise.registered", "membership.requested"} <= actions


def test_browser_language_does_not_override_chinese_default(client):
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "zh-hans"
    assert "登录" in response.content.decode()


def test_unknown_language_cookie_falls_back_to_chinese(client):
    client.cookies["django_language"] = "xx"
    assert client.get(reverse("home"))["Content-Language"] == "zh-hans"
