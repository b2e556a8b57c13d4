"""Personal access tokens: made once (only a hash kept), expiring, revocable, scoped, throttled;
the portal page that makes and revokes them."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.api import services as token_services
from core.api.models import AccessToken
from core.exceptions import DomainError
from core.models import AuditEvent
from tests.web.api.conftest import bearer, token_for

pytestmark = pytest.mark.django_db

LIST = "/api/v1/enterprise/applications/"


def test_token_is_stored_as_a_hash_only(tenants):
    # When a token is made
    token, secret = token_services.access_token_create(
        actor=tenants.owner, name="filing", scope="read", expires_on=timezone.localdate() + datetime.timedelta(days=7)
    )

    # Then only its SHA-256 and a short prefix are kept, and its making is audited
    assert secret.startswith("rfp_") and len(secret) > 40
    stored = AccessToken.objects.get(pk=token.pk)
    assert stored.key_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {stored.prefix, stored.key_sha256, stored.name}
    assert secret.startswith(stored.prefix)
    assert AuditEvent.objects.filter(
        action="access_token.created", object_id=str(token.pk), actor=tenants.owner
    ).exists()


@pytest.mark.parametrize(
    ("days", "code"), [(0, "token_expiry_invalid"), (-3, "token_expiry_invalid"), (366, "token_expiry_invalid")]
)
def test_expiry_is_required_and_bounded(tenants, days, code):
    with pytest.raises(DomainError) as caught:
        token_services.access_token_create(
            actor=tenants.owner, name="x", scope="read", expires_on=timezone.localdate() + datetime.timedelta(days=days)
        )
    assert caught.value.code == code
    assert not AccessToken.objects.exists()


def test_staff_get_no_personal_token(tenants):
    with pytest.raises(DomainError) as caught:
        token_services.access_token_create(
            actor=tenants.staff, name="x", scope="read", expires_on=timezone.localdate() + datetime.timedelta(days=7)
        )
    assert caught.value.code == "token_not_for_staff"


def test_a_valid_token_reads_and_is_marked_used(tenants):
    secret = token_for(tenants.owner, "read")

    response = bearer(secret).get(LIST)

    assert response.status_code == 200
    assert AccessToken.objects.get().last_used_at is not None


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Bearer rfp_not-a-real-token", "token_invalid"),
        ("Bearer", "token_invalid"),
        ("Bearer a b", "token_invalid"),
    ],
)
def test_unknown_or_malformed_tokens_are_401(tenants, header, code):
    response = APIClient().get(LIST, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json()["code"] == code
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_no_credentials_is_401_with_the_challenge(tenants):
    response = APIClient().get(LIST)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert "Bearer" in response["WWW-Authenticate"]


def test_an_expired_token_is_refused(tenants):
    secret = token_for(tenants.owner, "read", days=1)
    AccessToken.objects.update(
        created_at=timezone.now() - datetime.timedelta(days=3),
        expires_at=timezone.now() - datetime.timedelta(seconds=1),
    )

    response = bearer(secret).get(LIST)

    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


def test_a_revoked_token_is_refused_from_the_next_request(tenants):
    secret = token_for(tenants.owner, "read")
    client = bearer(secret)
    assert client.get(LIST).status_code == 200

    token_services.access_token_revoke(actor=tenants.owner, token_id=AccessToken.objects.get().pk)

    response = client.get(LIST)
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"
    assert AuditEvent.objects.filter(action="access_token.revoked").count() == 1


def test_only_the_owner_revokes_and_only_once(tenants):
    token = AccessToken.objects.get(key_sha256=hashlib.sha256(token_for(tenants.owner).encode()).hexdigest())
    with pytest.raises(DomainError) as other:
        token_services.access_token_revoke(actor=tenants.peer, token_id=token.pk)
    assert other.value.code == "not_found"
    token_services.access_token_revoke(actor=tenants.owner, token_id=token.pk)
    with pytest.raises(DomainError) as again:
        token_services.access_token_revoke(actor=tenants.owner, token_id=token.pk)
    assert again.value.code == "token_revoked"


def test_a_token_of_a_deactivated_user_is_refused(tenants):
    secret = token_for(tenants.owner, "read")
    tenants.owner.is_active = False
    tenants.owner.save()

    assert bearer(secret).get(LIST).status_code == 401


def test_a_read_token_cannot_write(tenants):
    from tests.web.api.conftest import FORM

    secret = token_for(tenants.owner, "read")

    response = bearer(secret).post(
        LIST, {"enterprise": tenants.enterprise_a.pk, "item_version": tenants.item.pk, **FORM}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "token_scope_insufficient"
    from approvals.models import Application

    assert not Application.objects.exists()


def test_a_token_narrowed_to_an_enterprise_sees_only_it(tenants):
    from tests import factories
    from tests.workflows.conftest import new_draft

    second = factories.MembershipFactory(user=tenants.owner, confirmed=True).enterprise
    in_a = new_draft(tenants.owner, tenants.enterprise_a, tenants.item, with_material=False)
    in_second = new_draft(tenants.owner, second, tenants.item, with_material=False)
    client = bearer(token_for(tenants.owner, "read", enterprise_id=second.pk))

    ids = [row["id"] for row in client.get(LIST).json()["results"]]

    assert ids == [in_second.pk]
    assert client.get(f"{LIST}{in_a.pk}/").status_code == 404


def test_a_token_of_a_lapsed_membership_grants_nothing(tenants):
    from credit.models import Membership
    from tests.workflows.conftest import new_draft

    draft = new_draft(tenants.owner, tenants.enterprise_a, tenants.item, with_material=False)
    client = bearer(token_for(tenants.owner, "read"))
    Membership.objects.filter(user=tenants.owner).update(status=Membership.Status.REVOKED)

    assert client.get(LIST).json()["results"] == []
    assert client.get(f"{LIST}{draft.pk}/").status_code == 404


@override_settings(
    REST_FRAMEWORK={
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_token": "3/minute", "api_anon": "1000/minute"},
    }
)
def test_each_token_has_its_own_budget(tenants, monkeypatch):
    from rest_framework.settings import api_settings

    from web.api.tokens import TokenRateThrottle

    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", api_settings.DEFAULT_THROTTLE_RATES)
    first = bearer(token_for(tenants.owner, "read"))
    second = bearer(token_for(tenants.owner, "read"))

    answers = [first.get(LIST).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    throttled = first.get(LIST)
    assert throttled.json()["code"] == "throttled"
    assert "Retry-After" in throttled
    # the owner's other token is not starved by the first one
    assert second.get(LIST).status_code == 200


# --- the portal page --------------------------------------------------------------------------


def test_portal_page_makes_a_token_shown_once(tenants):
    client = Client()
    client.force_login(tenants.owner)
    url = reverse("portal:tokens")
    assert client.get(url).status_code == 200

    expires = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    response = client.post(url, {"name": "ERP", "scope": "write", "enterprise": "", "expires_on": expires})

    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("rfp_") and secret in response.content.decode()
    token = AccessToken.objects.get()
    assert (token.name, token.scope, token.enterprise_id) == ("ERP", "write", None)
    # the next look at the page does not show it again
    assert secret not in client.get(url).content.decode()
    assert bearer(secret).get(LIST).status_code == 200


def test_portal_page_refuses_a_bad_expiry_and_writes_nothing(tenants):
    client = Client()
    client.force_login(tenants.owner)
    expires = (timezone.localdate() + datetime.timedelta(days=4000)).isoformat()

    response = client.post(reverse("portal:tokens"), {"name": "ERP", "scope": "read", "expires_on": expires})

    assert response.status_code == 400
    assert response.context["form"].has_error("expires_on", "token_expiry_invalid")
    assert not AccessToken.objects.exists()


def test_portal_page_revokes_own_token_only(tenants):
    token = AccessToken.objects.get(key_sha256=hashlib.sha256(token_for(tenants.owner).encode()).hexdigest())
    peer = Client()
    peer.force_login(tenants.peer)
    assert peer.post(reverse("portal:token_revoke", args=[token.pk])).status_code == 404
    owner = Client()
    owner.force_login(tenants.owner)

    response = owner.post(reverse("portal:token_revoke", args=[token.pk]))

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_portal_page_is_for_enterprise_users(tenants):
    client = Client()
    client.force_login(tenants.staff)
    assert client.get(reverse("portal:tokens")).status_code == 404
    assert Client().get(reverse("portal:tokens")).status_code == 302
