import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from core.models import User
from credit.models import Enterprise, Membership
from tests import factories

pytestmark = pytest.mark.django_db


def _registration(**overrides):
    data = {
        "username": "newuser",
        "display_name": "赵六",
        "email": "zhao@example.invalid",
        "phone": "13912345678",
        "password1": "a-long-and-unusual-passphrase",
        "password2": "a-long-and-unusual-passphrase",
        "uscc": "91110000600037341l",
        "enterprise_name": "北京测试有限公司",
        "legal_representative": "赵六",
        "role": Membership.Role.LEGAL_REPRESENTATIVE,
    }
    data.update(overrides)
    return data


def test_registration_creates_enterprise_user_with_pending_membership(client):
    response = client.post(reverse("register"), _registration())
    assert response.status_code == 302
    user = User.objects.get(username="newuser")
    assert user.kind == User.Kind.ENTERPRISE
    assert user.password.startswith("argon2$")
    membership = Membership.objects.get(user=user)
    assert membership.status == Membership.Status.PENDING
    assert membership.enterprise.uscc == "91110000600037341L"


@pytest.mark.parametrize(
    ("uscc", "code"),
    [
        ("91110000600037341X", "uscc_invalid_checksum"),
        ("9111000060003734", "uscc_invalid_length"),
        ("91110000600037341I", "uscc_invalid_format"),
    ],
)
def test_registration_with_bad_code_shows_form_error_and_writes_nothing(client, uscc, code):
    response = client.post(reverse("register"), _registration(uscc=uscc))
    assert response.status_code == 400
    form = response.context["form"]
    assert form.has_error("uscc", code)
    assert User.objects.count() == 0
    assert Enterprise.objects.count() == 0


def test_registration_agent_needs_document_and_period(client):
    response = client.post(reverse("register"), _registration(role=Membership.Role.AGENT))
    assert response.status_code == 400
    form = response.context["form"]
    assert form.has_error("authorisation_document", "document_required")
    assert form.has_error("valid_from", "validity_required")
    assert User.objects.count() == 0


def test_registration_agent_with_disguised_document_is_refused(client):
    today = timezone.localdate()
    fake = SimpleUploadedFile("letter.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    response = client.post(
        reverse("register"),
        _registration(
            role=Membership.Role.AGENT,
            authorisation_document=fake,
            valid_from=today.isoformat(),
            valid_until=(today + datetime.timedelta(days=90)).isoformat(),
        ),
    )
    assert response.status_code == 400
    assert response.context["form"].has_error("authorisation_document", "document_type_not_allowed")
    assert User.objects.count() == 0
    assert Membership.objects.count() == 0


def test_registration_agent_with_pdf_succeeds(client):
    today = timezone.localdate()
    letter = SimpleUploadedFile("letter.pdf", factories.PDF_BYTES, content_type="application/pdf")
    response = client.post(
        reverse("register"),
        _registration(
            role=Membership.Role.AGENT,
            authorisation_document=letter,
            valid_from=today.isoformat(),
            valid_until=(today + datetime.timedelta(days=90)).isoformat(),
        ),
    )
    assert response.status_code == 302
    membership = Membership.objects.get()
    assert membership.role == Membership.Role.AGENT
    assert membership.authorisation_document.read().startswith(b"%PDF-")


def test_registration_refuses_weak_password_and_mismatch(client):
    response = client.post(reverse("register"), _registration(password1="12345678", password2="12345678"))
    assert response.status_code == 400
    assert response.context["form"].has_error("password1")
    response = client.post(reverse("register"), _registration(password2="something-else-entirely"))
    assert response.context["form"].has_error("password2", "password_mismatch")
    assert User.objects.count() == 0


def test_registration_refuses_taken_username_case_insensitively(client):
    factories.UserFactory(username="NewUser")
    response = client.post(reverse("register"), _registration())
    assert response.status_code == 400
    assert response.context["form"].has_error("username", "username_taken")


def test_pending_member_sees_nothing_of_the_enterprise(client, enterprise):
    membership = factories.MembershipFactory(enterprise=enterprise)
    client.force_login(membership.user)
    assert client.get(reverse("credit:enterprise", args=[enterprise.pk])).status_code == 404
    portal = client.get(reverse("portal:home"))
    assert portal.status_code == 200
    assert list(portal.context["enterprises"]) == []
    assert enterprise.name not in portal.content.decode()


def test_owner_sees_own_enterprise(client, owner, enterprise):
    client.force_login(owner)
    response = client.get(reverse("credit:enterprise", args=[enterprise.pk]))
    assert response.status_code == 200
    assert enterprise.name in response.content.decode()


def test_enterprise_user_gets_404_for_another_enterprise(client, owner, peer_enterprise):
    client.force_login(owner)
    assert client.get(reverse("credit:enterprise", args=[peer_enterprise.pk])).status_code == 404


def test_unknown_and_foreign_enterprise_look_the_same(client, owner, peer_enterprise):
    client.force_login(owner)
    foreign = client.get(reverse("credit:enterprise", args=[peer_enterprise.pk]))
    missing = client.get(reverse("credit:enterprise", args=[peer_enterprise.pk + 1000]))
    assert foreign.status_code == missing.status_code == 404
    main = lambda r: r.content.decode().split("<main", 1)[1].split("</main>", 1)[0]  # noqa: E731
    assert main(foreign) == main(missing)


def test_expired_agent_gets_404(client, enterprise):
    membership = factories.MembershipFactory(enterprise=enterprise, agent=True, expired=True, confirmed=True)
    client.force_login(membership.user)
    assert client.get(reverse("credit:enterprise", args=[enterprise.pk])).status_code == 404


def test_join_another_enterprise_creates_pending_request(client, owner, peer_enterprise):
    client.force_login(owner)
    response = client.post(
        reverse("credit:join"),
        {
            "uscc": peer_enterprise.uscc.lower(),
            "enterprise_name": "x",
            "legal_representative": "y",
            "role": Membership.Role.LEGAL_REPRESENTATIVE,
        },
    )
    assert response.status_code == 302
    assert Membership.objects.get(user=owner, enterprise=peer_enterprise).status == Membership.Status.PENDING
    assert client.get(reverse("credit:enterprise", args=[peer_enterprise.pk])).status_code == 404


def test_join_twice_is_a_form_error(client, owner, enterprise):
    client.force_login(owner)
    response = client.post(
        reverse("credit:join"),
        {
            "uscc": enterprise.uscc,
            "enterprise_name": "x",
            "legal_representative": "y",
            "role": Membership.Role.LEGAL_REPRESENTATIVE,
        },
    )
    assert response.status_code == 400
    assert response.context["form"].has_error("__all__", "membership_exists")


def test_staff_cannot_reach_portal_pages(client, auditor, enterprise):
    client.force_login(auditor)
    assert client.get(reverse("portal:home")).status_code == 404
    assert client.get(reverse("credit:join")).status_code == 404
    assert client.get(reverse("credit:enterprise", args=[enterprise.pk])).status_code == 404


def test_portal_query_count_does_not_grow_with_memberships(client, django_assert_max_num_queries):
    user = factories.UserFactory()
    factories.MembershipFactory(user=user, confirmed=True)
    client.force_login(user)
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("portal:home"))
    for _ in range(15):
        factories.MembershipFactory(user=user, confirmed=True)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("portal:home"))
    assert len(response.context["enterprises"]) == 16
