"""An enterprise's certificates, written notices and files on the API: what the portal shows (the
certificate's state as the public verification says it, the notice's SHA-256), and the downloads
through the bearer token — the exact bytes, the recorded type, an attachment, nosniff — with the
site's own permission rule."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.utils import timezone

from approvals.applications import services as application_services
from approvals.models import Certificate, WrittenNotice
from core.models import AuditEvent
from tests.web.api.conftest import approved_case, bearer, token_for

pytestmark = pytest.mark.django_db

CERTIFICATES = "/api/v1/enterprise/certificates/"
APPLICATIONS = "/api/v1/enterprise/applications/"


@pytest.fixture
def client(tenants):
    return bearer(token_for(tenants.owner, "read"))


@pytest.fixture
def approved(tenants, bureau):
    return approved_case(tenants, bureau)


def _content(response) -> bytes:
    return b"".join(response.streaming_content)


def test_certificates_list_and_detail_show_what_the_portal_shows(client, approved):
    certificate = approved.certificate

    listing = client.get(CERTIFICATES)
    detail = client.get(f"{CERTIFICATES}{certificate.pk}/")

    assert listing.status_code == 200
    assert [row["number"] for row in listing.json()["results"]] == [certificate.number]
    body = detail.json()
    assert detail.status_code == 200 and body == listing.json()["results"][0]
    assert body["state"] == "valid" and body["application"] == approved.pk
    assert body["item_code"] == approved.item_version.item.code
    assert body["valid_from"] == certificate.valid_from.isoformat()
    assert body["valid_until"] == certificate.valid_until.isoformat()
    assert body["verify"] == f"/verify/{certificate.verification_code}/"
    assert body["verify_api"] == f"/api/v1/public/certificates/{certificate.number}/"


def test_a_revoked_and_an_expired_certificate_say_so(client, approved, bureau):
    certificate = approved.certificate
    application_services.certificate_revoke(actor=bureau.decider, certificate=certificate, reason="虚假承诺")

    revoked = client.get(f"{CERTIFICATES}{certificate.pk}/").json()
    Certificate.objects.filter(pk=certificate.pk).update(
        status=Certificate.Status.VALID, valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    expired = client.get(f"{CERTIFICATES}{certificate.pk}/").json()

    assert revoked["state"] == "revoked" and revoked["revocation_reason"] == "虚假承诺" and revoked["revoked_at"]
    assert expired["state"] == "expired"


def test_certificates_filter_by_enterprise_and_refuse_a_bad_one(client, tenants, approved):
    assert client.get(CERTIFICATES, {"enterprise": tenants.enterprise_b.pk}).json()["results"] == []
    assert len(client.get(CERTIFICATES, {"enterprise": tenants.enterprise_a.pk}).json()["results"]) == 1
    bad = client.get(CERTIFICATES, {"enterprise": "x"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid" and "enterprise" in bad.json()["fields"]


def test_certificate_list_in_constant_queries(client, tenants, bureau, django_assert_max_num_queries):
    for _ in range(3):
        approved_case(tenants, bureau)
    with django_assert_max_num_queries(8):
        assert len(client.get(CERTIFICATES).json()["results"]) == 3


def test_notices_of_an_application_with_their_hash(client, approved):
    notices = list(WrittenNotice.objects.filter(application=approved).order_by("-issued_at", "-id"))

    listing = client.get(f"{APPLICATIONS}{approved.pk}/notices/")
    detail = client.get(f"{APPLICATIONS}{approved.pk}/notices/{notices[0].pk}/")

    assert listing.status_code == 200
    rows = listing.json()["results"]
    assert [(row["kind"], row["number"], row["sha256"]) for row in rows] == [
        (n.kind, n.number, n.sha256) for n in notices
    ]
    assert {row["kind"] for row in rows} == {"acceptance", "approval"}
    assert detail.json() == rows[0]
    assert detail.json()["download"] == f"{APPLICATIONS}{approved.pk}/notices/{notices[0].pk}/file/"


def test_a_notice_downloads_with_the_bearer_token_as_the_exact_pdf(client, approved):
    notice = WrittenNotice.objects.filter(application=approved, kind="approval").get()
    stored = notice.file.open("rb").read()

    response = client.get(f"{APPLICATIONS}{approved.pk}/notices/{notice.pk}/file/", HTTP_ACCEPT="application/pdf")

    assert response.status_code == 200
    body = _content(response)
    assert body == stored and hashlib.sha256(body).hexdigest() == notice.sha256
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{notice.number}.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_material_downloads_with_its_recorded_type(client, approved):
    material = approved.materials.get()
    # the type recorded at upload, whatever the name says
    type(material).objects.filter(pk=material.pk).update(content_type="image/png")

    response = client.get(f"{APPLICATIONS}{approved.pk}/materials/{material.pk}/file/")

    assert response.status_code == 200
    assert _content(response) == material.file.open("rb").read()
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_status_answer_links_to_the_api_downloads(client, approved):
    body = client.get(f"{APPLICATIONS}{approved.pk}/").json()

    material = approved.materials.get()
    assert body["materials"][0]["download"] == f"{APPLICATIONS}{approved.pk}/materials/{material.pk}/file/"
    assert {row["download"] for row in body["written_notices"]} == {
        f"{APPLICATIONS}{approved.pk}/notices/{n.pk}/file/" for n in approved.written_notices.all()
    }
    assert client.get(body["written_notices"][0]["download"]).status_code == 200


def test_a_file_of_another_application_or_missing_from_storage_is_a_404(client, tenants, bureau, approved):
    other = approved_case(tenants, bureau)
    notice = approved.written_notices.first()
    material = approved.materials.get()

    crossed_notice = client.get(f"{APPLICATIONS}{other.pk}/notices/{notice.pk}/file/")
    crossed_notice_detail = client.get(f"{APPLICATIONS}{other.pk}/notices/{notice.pk}/")
    crossed_material = client.get(f"{APPLICATIONS}{other.pk}/materials/{material.pk}/file/")
    material.file.storage.delete(material.file.name)
    gone = client.get(f"{APPLICATIONS}{approved.pk}/materials/{material.pk}/file/")

    for response in (crossed_notice, crossed_notice_detail, crossed_material, gone):
        assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_a_token_narrowed_to_another_enterprise_downloads_nothing(tenants, approved):
    from tests import factories

    # the owner acts for a second enterprise too; a token narrowed to it does not reach A's files
    second = factories.MembershipFactory(user=tenants.owner, confirmed=True).enterprise
    narrowed = bearer(token_for(tenants.owner, "read", enterprise_id=second.pk))
    notice = approved.written_notices.first()

    assert narrowed.get(f"{APPLICATIONS}{approved.pk}/notices/{notice.pk}/file/").status_code == 404
    assert narrowed.get(f"{CERTIFICATES}{approved.certificate.pk}/").status_code == 404
    assert narrowed.get(CERTIFICATES).json()["results"] == []


def test_the_portal_download_still_answers_through_the_shared_helper(tenants, approved):
    from django.test import Client

    browser = Client()
    browser.force_login(tenants.owner)
    notice = approved.written_notices.first()

    response = browser.get(f"/files/notices/{notice.pk}/")

    assert response.status_code == 200 and response["X-Content-Type-Options"] == "nosniff"
    assert _content(response) == notice.file.open("rb").read()
    assert not AuditEvent.objects.filter(action="auditor.read").exists()  # an enterprise user is not an auditor
