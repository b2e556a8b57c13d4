"""Single sign-on end to end, against a real OpenID Connect provider on loopback.

The provider is tests/sso_provider (django-oauth-toolkit with OIDC, RS256 with a key made here, its
own SQLite file), in its own process. Each test drives the real flow: our /accounts/oidc/authenticate/
→ the provider's authorize endpoint → its log-in form (the person logs in there; consent is
pre-approved) → our callback with code and state → our server exchanges the code, checks the ID
token against the provider's JWKS, reads userinfo and signs the person in — or refuses.
Our site is driven with Django's test client (its requests to the provider are real HTTP); the
browser's side of the provider with requests.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client
from django.urls import reverse

from approvals.organisation.roles import StaffRole
from core.models import AuditEvent, ExternalIdentity, User
from credit.enterprises.uscc import uscc_with_check_digit
from credit.models import Enterprise, Membership
from tests import factories

REPO = Path(__file__).resolve().parents[3]
PASSWORD = "provider-password"
CLIENT_ID = "reformflow"
CLIENT_SECRET = "reformflow-secret-0123456789"
USCC_A = uscc_with_check_digit("91210100900000001")
USCC_B = uscc_with_check_digit("91210100900000002")
USCC_UNREGISTERED = uscc_with_check_digit("91210100900000003")

# The provider's people and the claims it vouches for.
PEOPLE = {
    "rep": {"name": "张伟", "uscc": USCC_A, "email": "zhangwei@example.cn"},
    "rep_local": {"name": "李娜", "uscc": USCC_B},
    "impostor": {"name": "赵六", "uscc": USCC_A},
    "stranger": {"name": "王五", "uscc": USCC_UNREGISTERED},
    "staff": {"name": "陈静", "employee_id": "E1001"},
    "staff_unknown": {"name": "孙七", "employee_id": "E9999"},
    "nobody": {"name": "周八"},
}


@dataclass(frozen=True)
class Provider:
    url: str  # the issuer, http://127.0.0.1:<port>/o


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    folder = tmp_path_factory.mktemp("sso_provider")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = folder / "key.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    claims_file = folder / "claims.json"
    claims_file.write_text(json.dumps(PEOPLE, ensure_ascii=False), encoding="utf-8")
    config = folder / "config.json"
    config.write_text(
        json.dumps(
            {
                "database": str(folder / "provider.sqlite3"),
                "key_file": str(key_file),
                "claims_file": str(claims_file),
                "users": [{"username": name, "password": PASSWORD} for name in PEOPLE],
                "client": {
                    "id": CLIENT_ID,
                    "secret": CLIENT_SECRET,
                    "redirect_uris": ["http://testserver/accounts/oidc/callback/"],
                    "post_logout_redirect_uris": ["http://testserver/"],
                },
            }
        )
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "SSO_PROVIDER_SECRET": "s" * 40}
    process = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
        [sys.executable, "-m", "tests.sso_provider.serve", str(config)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # the provider migrates first: a few seconds
        if not line.startswith("ready "):
            process.kill()
            raise RuntimeError("the test provider did not start: " + line + process.communicate(timeout=10)[1])
        yield Provider(url=f"http://127.0.0.1:{int(line.split()[1])}/o")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def sso(settings, provider: Provider) -> Provider:  # type: ignore[no-untyped-def]
    settings.SSO_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_OP_DISCOVERY_URL = provider.url  # resolved on first use: /.well-known/openid-configuration
    return provider


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _to_provider_and_back(client: Client, username: str, *, tamper: dict[str, str] | None = None) -> str:
    """From our authenticate view through the provider's log-in to the callback URL it sends the
    browser back to (not yet followed). ``tamper`` changes parameters of the authorisation request."""
    start = client.get(reverse("oidc_authenticate"))
    assert start.status_code == 302, start.status_code
    authorize = start["Location"]
    assert authorize.startswith("http://127.0.0.1:")
    params = parse_qs(urlsplit(authorize).query)
    assert params["code_challenge_method"] == ["S256"] and params["nonce"] and params["state"]
    if tamper:
        authorize = _with_query(authorize, **tamper)
    browser = requests.Session()
    to_login = browser.get(authorize, allow_redirects=False, timeout=10)
    assert to_login.status_code == 302, to_login.text[:500]
    login_url = urljoin(authorize, to_login.headers["Location"])
    page = browser.get(login_url, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None
    logged_in = browser.post(
        login_url,
        data={
            "csrfmiddlewaretoken": token.group(1),
            "username": username,
            "password": PASSWORD,
            "next": parse_qs(urlsplit(login_url).query)["next"][0],
        },
        allow_redirects=False,
        timeout=10,
    )
    assert logged_in.status_code == 302, logged_in.text[:500]
    back = browser.get(urljoin(login_url, logged_in.headers["Location"]), allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text[:500]
    callback = back.headers["Location"]
    assert callback.startswith("http://testserver/accounts/oidc/callback/?"), callback
    client.provider_browser = browser  # type: ignore[attr-defined]  # the provider's session, for logout
    return callback


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def sso_login(client: Client, username: str):  # type: ignore[no-untyped-def]
    return client.get(_path(_to_provider_and_back(client, username)))


def _signed_in(client: Client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def _refusals(code: str) -> int:
    return AuditEvent.objects.filter(action="account.sso_refused", data__code=code).count()


# --- enterprise legal representatives ----------------------------------------------------------


def test_legal_representative_gets_an_account_and_owner_membership_by_uscc_and_name(sso, db) -> None:  # type: ignore[no-untyped-def]
    # Given an enterprise registered with 张伟 as its legal representative, and no account for him
    enterprise = factories.EnterpriseFactory(uscc=USCC_A, name="沈阳甲公司", legal_representative="张伟")
    users_before = User.objects.count()
    client = Client()

    # When he logs in through the identity service
    response = sso_login(client, "rep")

    # Then he is signed in to a new enterprise account with a confirmed legal-representative membership
    assert response.status_code == 302 and response["Location"] == reverse("home")
    user = _signed_in(client)
    assert user is not None and user.is_enterprise_user and user.display_name == "张伟"
    assert user.email == "zhangwei@example.cn" and not user.has_usable_password()
    assert User.objects.count() == users_before + 1
    membership = Membership.objects.get(user=user, enterprise=enterprise)
    assert (membership.role, membership.status) == (Membership.Role.LEGAL_REPRESENTATIVE, Membership.Status.CONFIRMED)
    identity = ExternalIdentity.objects.get(user=user)
    assert identity.issuer == sso.url and identity.last_login_at is not None
    event = AuditEvent.objects.get(action="account.sso_login", object_id=str(user.pk))
    assert event.data["route"] == "enterprise" and event.data["enterprise"] == USCC_A and event.data["account_created"]
    # and the portal shows him his enterprise
    portal = client.get(reverse("portal:home"))
    assert portal.status_code == 200 and "沈阳甲公司" in portal.content.decode()

    # When he logs in again from another browser, he opens the same account and nothing is added
    again = Client()
    assert sso_login(again, "rep").status_code == 302
    assert _signed_in(again) == user
    assert User.objects.count() == users_before + 1
    assert Membership.objects.filter(user=user).count() == 1
    assert AuditEvent.objects.filter(action="account.sso_login", object_id=str(user.pk)).count() == 2


def test_legal_representative_with_a_local_account_is_linked_to_it(sso, db) -> None:  # type: ignore[no-untyped-def]
    # Given 李娜 registered locally and confirmed as the legal representative of enterprise B
    enterprise = factories.EnterpriseFactory(uscc=USCC_B, legal_representative="李娜")
    local = factories.UserFactory(display_name="李娜")
    factories.MembershipFactory(user=local, enterprise=enterprise, confirmed=True)
    users_before = User.objects.count()
    client = Client()

    # When she logs in through the identity service
    assert sso_login(client, "rep_local").status_code == 302

    # Then she is in her own account, now linked to her identity; no second account
    assert _signed_in(client) == local
    assert User.objects.count() == users_before
    assert ExternalIdentity.objects.get(user=local).subject
    assert Membership.objects.filter(user=local, enterprise=enterprise).count() == 1


def test_right_uscc_with_another_name_is_refused_and_creates_nothing(sso, db) -> None:  # type: ignore[no-untyped-def]
    factories.EnterpriseFactory(uscc=USCC_A, legal_representative="张伟")
    users_before, memberships_before = User.objects.count(), Membership.objects.count()
    client = Client()

    response = sso_login(client, "impostor")

    assert response.status_code == 403
    assert b'data-code="sso_enterprise_unknown"' in response.content
    assert _signed_in(client) is None
    assert (User.objects.count(), Membership.objects.count()) == (users_before, memberships_before)
    assert not ExternalIdentity.objects.exists()
    assert _refusals("sso_enterprise_unknown") == 1


def test_unregistered_enterprise_is_refused_and_creates_nothing(sso, db) -> None:  # type: ignore[no-untyped-def]
    users_before = User.objects.count()
    client = Client()

    response = sso_login(client, "stranger")

    assert response.status_code == 403
    assert _signed_in(client) is None
    assert User.objects.count() == users_before and not Enterprise.objects.filter(uscc=USCC_UNREGISTERED).exists()
    assert not ExternalIdentity.objects.exists()


def test_identity_without_employee_id_or_enterprise_is_refused(sso, db) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    response = sso_login(client, "nobody")
    assert response.status_code == 403 and b'data-code="sso_claims_incomplete"' in response.content
    assert _signed_in(client) is None


def test_revoked_membership_is_not_restored_by_sso(sso, db) -> None:  # type: ignore[no-untyped-def]
    # Given 张伟 signed up by SSO, and an administrator then revoked his membership
    enterprise = factories.EnterpriseFactory(uscc=USCC_A, legal_representative="张伟")
    first = Client()
    sso_login(first, "rep")
    user = _signed_in(first)
    Membership.objects.filter(user=user, enterprise=enterprise).update(status=Membership.Status.REVOKED)

    # When he logs in again, he is refused, and no new membership appears
    again = Client()
    response = sso_login(again, "rep")
    assert response.status_code == 403 and b'data-code="sso_membership_ended"' in response.content
    assert _signed_in(again) is None
    assert not Membership.objects.filter(user=user, status__in=Membership.OPEN_STATUSES).exists()


# --- staff ---------------------------------------------------------------------------------------


def test_staff_member_is_signed_in_by_employee_id_with_their_role_and_department(sso, db, bureau) -> None:  # type: ignore[no-untyped-def]
    # Given the desk clerk of the one-window desk, with employee id E1001
    clerk = factories.staff_with_role(StaffRole.DESK, department=bureau.desk, display_name="陈静")
    User.objects.filter(pk=clerk.pk).update(employee_id="E1001")
    users_before = User.objects.count()
    client = Client()

    # When she logs in through the identity service
    response = sso_login(client, "staff")

    # Then she is in her own staff account, her department's workbench open to her
    assert response.status_code == 302
    assert _signed_in(client) == clerk
    assert User.objects.count() == users_before
    assert client.get(reverse("workbench:home")).status_code == 200
    event = AuditEvent.objects.get(action="account.sso_login", object_id=str(clerk.pk))
    assert event.data["route"] == "staff" and event.data["employee_id"] == "E1001"
    assert not ExternalIdentity.objects.exists()


def test_unknown_employee_id_is_refused_and_no_staff_account_is_made(sso, db) -> None:  # type: ignore[no-untyped-def]
    users_before = User.objects.count()
    client = Client()

    response = sso_login(client, "staff_unknown")

    assert response.status_code == 403 and b'data-code="sso_staff_unknown"' in response.content
    assert _signed_in(client) is None
    assert User.objects.count() == users_before
    assert _refusals("sso_staff_unknown") == 1


def test_disabled_staff_account_is_refused(sso, db) -> None:  # type: ignore[no-untyped-def]
    clerk = factories.UserFactory(staff=True, is_active=False)
    User.objects.filter(pk=clerk.pk).update(employee_id="E1001")
    client = Client()
    response = sso_login(client, "staff")
    assert response.status_code == 403 and b'data-code="sso_account_inactive"' in response.content
    assert _signed_in(client) is None


# --- the protocol's own checks -------------------------------------------------------------------


def test_callback_with_a_forged_state_is_refused(sso, db) -> None:  # type: ignore[no-untyped-def]
    factories.EnterpriseFactory(uscc=USCC_A, legal_representative="张伟")
    users_before = User.objects.count()
    client = Client()
    callback = _to_provider_and_back(client, "rep")

    response = client.get(_path(_with_query(callback, state="forged-state")))

    assert response.status_code == 400 and b'data-code="sso_verification_failed"' in response.content
    assert _signed_in(client) is None and User.objects.count() == users_before


def test_callback_in_another_browser_session_is_refused(sso, db) -> None:  # type: ignore[no-untyped-def]
    # The code and state were meant for the browser that started the log-in, not for an attacker's.
    factories.EnterpriseFactory(uscc=USCC_A, legal_representative="张伟")
    users_before = User.objects.count()
    callback = _to_provider_and_back(Client(), "rep")
    other = Client()

    response = other.get(_path(callback))

    assert response.status_code == 400
    assert _signed_in(other) is None and User.objects.count() == users_before


def test_id_token_with_another_nonce_is_refused(sso, db) -> None:  # type: ignore[no-untyped-def]
    # The provider issues an ID token for a nonce our session never sent (a replayed or injected token).
    factories.EnterpriseFactory(uscc=USCC_A, legal_representative="张伟")
    users_before = User.objects.count()
    client = Client()
    callback = _to_provider_and_back(client, "rep", tamper={"nonce": "not-the-nonce-we-sent"})

    response = client.get(_path(callback))

    assert response.status_code == 400 and b'data-code="sso_verification_failed"' in response.content
    assert _signed_in(client) is None and User.objects.count() == users_before
    assert not ExternalIdentity.objects.exists()


@pytest.mark.parametrize(
    ("claims", "accepted"),
    [
        ({"aud": CLIENT_ID, "iss": "https://idp.example"}, True),
        ({"aud": [CLIENT_ID, "portal"], "iss": "https://idp.example"}, True),
        ({"aud": "another-client", "iss": "https://idp.example"}, False),
        ({"aud": CLIENT_ID, "iss": "https://other-idp.example"}, False),
        ({"aud": CLIENT_ID, "iss": "https://idp.example", "sub": ""}, False),
    ],
)
def test_id_token_must_name_our_client_and_the_issuer(claims, accepted) -> None:  # type: ignore[no-untyped-def]
    # mozilla-django-oidc checks the signature and the nonce but neither audience nor issuer.
    import time

    import jwt
    from django.core.exceptions import SuspiciousOperation

    from web.accounts.oidc import ProvincialIdentityBackend

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    token = jwt.encode({"sub": "42", "nonce": "n", "exp": int(time.time()) + 60, **claims}, key, algorithm="RS256")
    backend = ProvincialIdentityBackend()
    backend.OIDC_RP_SIGN_ALGO = "RS256"
    backend.OIDC_RP_IDP_SIGN_KEY = public
    backend.OIDC_RP_CLIENT_ID = CLIENT_ID
    backend.expected_issuer = "https://idp.example"
    if accepted:
        assert backend.verify_token(token, nonce="n")["sub"] == "42"
    else:
        with pytest.raises(SuspiciousOperation):
            backend.verify_token(token, nonce="n")


def test_explicit_endpoints_work_without_discovery(sso, settings, db) -> None:  # type: ignore[no-untyped-def]
    settings.OIDC_OP_DISCOVERY_URL = ""
    settings.OIDC_OP_ISSUER = sso.url
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = sso.url + "/authorize/"
    settings.OIDC_OP_TOKEN_ENDPOINT = sso.url + "/token/"
    settings.OIDC_OP_USER_ENDPOINT = sso.url + "/userinfo/"
    settings.OIDC_OP_JWKS_ENDPOINT = sso.url + "/.well-known/jwks.json"
    factories.EnterpriseFactory(uscc=USCC_A, legal_representative="张伟")
    client = Client()
    assert sso_login(client, "rep").status_code == 302
    assert _signed_in(client) is not None

    # and with another issuer configured than the provider's, the same token is not believed
    settings.OIDC_OP_ISSUER = "https://another-idp.example.gov.cn"
    other = Client()
    response = sso_login(other, "rep")
    assert response.status_code == 400 and _signed_in(other) is None


def test_a_discovery_document_naming_another_issuer_is_not_used(sso, monkeypatch, db) -> None:  # type: ignore[no-untyped-def]
    # OpenID Connect Discovery § 4.3: the document must name the issuer it was fetched from.
    from django.core.cache import cache

    cache.clear()
    real_get = requests.get

    def forged(url, **kwargs):  # type: ignore[no-untyped-def]
        response = real_get(url, **kwargs)
        document = {**response.json(), "issuer": "https://another-idp.example.gov.cn"}
        response._content = json.dumps(document).encode()
        return response

    monkeypatch.setattr("web.accounts.oidc.requests.get", forged)
    response = Client().get(reverse("oidc_authenticate"))
    assert response.status_code == 502 and b'data-code="sso_provider_unavailable"' in response.content
    cache.clear()


def test_provider_down_is_a_clear_502_not_a_500(settings, db) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    cache.clear()
    settings.SSO_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_OP_DISCOVERY_URL = "http://127.0.0.1:9/o"  # the discard port: nothing answers
    response = Client().get(reverse("oidc_authenticate"))
    assert response.status_code == 502


# --- logout, and SSO off ---------------------------------------------------------------------------


def test_logout_ends_the_provider_session_too(sso, db) -> None:  # type: ignore[no-untyped-def]
    factories.EnterpriseFactory(uscc=USCC_A, legal_representative="张伟")
    client = Client()
    sso_login(client, "rep")
    assert _signed_in(client) is not None
    browser: requests.Session = client.provider_browser  # type: ignore[attr-defined]

    response = client.post(reverse("logout"))

    # signed out here, and sent to the provider's end-session endpoint with the ID token as hint
    assert _signed_in(client) is None
    assert response.status_code == 302
    end_session = response["Location"]
    assert end_session.startswith(sso.url + "/logout/?") and "id_token_hint=" in end_session
    # the provider ends its session and sends the browser back to our home page
    back = browser.get(end_session, allow_redirects=False, timeout=10)
    assert back.status_code == 302 and back.headers["Location"] == "http://testserver/"
    # a new log-in through the provider asks for the password again
    start = Client().get(reverse("oidc_authenticate"))
    again = browser.get(start["Location"], allow_redirects=False, timeout=10)
    assert again.status_code == 302 and "/login/" in again.headers["Location"]


def test_password_logout_without_sso_session_stays_local(sso, db) -> None:  # type: ignore[no-untyped-def]
    user = factories.UserFactory()
    client = Client()
    client.force_login(user)
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_login_page_shows_the_sso_button_only_when_configured(sso, settings, db) -> None:  # type: ignore[no-untyped-def]
    button = reverse("oidc_authenticate").encode()
    assert button in Client().get(reverse("login")).content

    settings.SSO_ENABLED = False
    page = Client().get(reverse("login"))
    assert page.status_code == 200 and button not in page.content


def test_sso_addresses_are_404_when_not_configured(settings, db) -> None:  # type: ignore[no-untyped-def]
    # The test settings configure no provider: SSO is off.
    assert settings.SSO_ENABLED is False
    client = Client()
    assert client.get(reverse("oidc_authenticate")).status_code == 404
    assert client.get(reverse("oidc_callback") + "?code=x&state=y").status_code == 404
    assert b"oidc" not in client.get(reverse("login")).content


def test_password_login_still_works_when_sso_is_configured(sso, db) -> None:  # type: ignore[no-untyped-def]
    # The SSO backend answers only the OIDC callback, even to a log-in form posted with code and state.
    user = factories.UserFactory(username="local-user")
    user.set_password("a-long-local-password")
    user.save()
    client = Client()
    response = client.post(
        reverse("login") + "?code=x&state=y", {"username": "local-user", "password": "a-long-local-password"}
    )
    assert response.status_code == 302 and _signed_in(client) == user
