"""The written notices: a PDF per step the law asks a document for, generated from the records in
the step's transaction, kept with its SHA-256, attached to the applicant's e-mail, downloadable by
the applicant and the staff of the case only, verifiable in public by its number."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from approvals.models import WrittenNotice
from core.outbox.models import Delivery
from tests.workflows.conftest import accept, file_application, make_item

pytestmark = pytest.mark.django_db


def _text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def accepted(bureau, owner, enterprise, settings, tmp_path, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    version = make_item(bureau, co_review=0)
    with django_capture_on_commit_callbacks(execute=True):
        application = file_application(owner, enterprise, version)
    with django_capture_on_commit_callbacks(execute=True):
        accept(bureau, application)
    application.refresh_from_db()
    return application


def test_acceptance_issues_one_notice_kept_with_its_hash(accepted):
    (notice,) = WrittenNotice.objects.filter(application=accepted)
    assert notice.kind == "acceptance" and notice.event.action == "accepted"
    content = notice.file.read()
    assert hashlib.sha256(content).hexdigest() == notice.sha256 and len(content) == notice.size
    text = _text(content)
    assert "受理通知书" in text and accepted.reference in text and notice.number in text
    assert accepted.deadline.isoformat() in text
    assert accepted.enterprise.name in text


def test_the_acceptance_email_carries_the_pdf(accepted):
    notice = WrittenNotice.objects.get(application=accepted)
    accepted_mail = next(m for m in mail.outbox if accepted.reference in m.subject and m.attachments)
    ((filename, content, mimetype),) = accepted_mail.attachments
    assert filename == f"{notice.number}.pdf" and mimetype == "application/pdf"
    assert hashlib.sha256(content).hexdigest() == notice.sha256


def test_a_changed_file_is_never_mailed(accepted, django_capture_on_commit_callbacks):
    notice = WrittenNotice.objects.get(application=accepted)
    with open(notice.file.path, "ab") as handle:
        handle.write(b"tampered")
    email = Delivery.objects.get(message__kind="application.accepted", channel="email")
    Delivery.objects.filter(pk=email.pk).update(status="queued")
    from core.outbox import services

    assert services.delivery_attempt(email.pk) == "failed"
    email.refresh_from_db()
    assert "SHA-256" in email.last_error


def test_download_for_the_applicant_and_the_case_staff_only(client, accepted, owner, peer, bureau):
    notice = WrittenNotice.objects.get(application=accepted)
    url = reverse("notice_download", args=[notice.pk])
    client.force_login(owner)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == notice.sha256
    client.force_login(bureau.desk_user)
    assert client.get(url).status_code == 200
    client.force_login(peer)
    assert client.get(url).status_code == 404
    from tests import factories

    client.force_login(factories.staff_with_role("reviewer", department=factories.department("无关处室")))
    assert client.get(url).status_code == 404
    # the applicant's page lists it
    client.force_login(owner)
    page = client.get(reverse("portal:application", args=[accepted.pk])).content.decode()
    assert url in page and notice.number in page


def test_public_verification_by_number_shows_nothing_private(client, accepted):
    notice = WrittenNotice.objects.get(application=accepted)
    page = client.get(reverse("notice_verify", args=[notice.number]))
    assert page.status_code == 200
    body = page.content.decode()
    assert notice.sha256 in body and notice.number in body
    assert accepted.enterprise.name not in body and accepted.reference not in body
    assert client.get(reverse("notice_verify", args=["WS2026-999999"])).status_code == 404


def test_numbers_run_without_gaps(bureau, owner, enterprise, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    version = make_item(bureau, co_review=0)
    for _ in range(3):
        accept(bureau, file_application(owner, enterprise, version))
    numbers = sorted(WrittenNotice.objects.values_list("number", flat=True))
    serials = [int(number.rsplit("-", 1)[1]) for number in numbers]
    assert serials == list(range(serials[0], serials[0] + 3))
