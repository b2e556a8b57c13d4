"""The one upload path: a hostile corpus refused with a clear error and nothing stored, valid files
accepted, and every stored file served as an attachment with its recorded type."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, TextStringObject

from approvals.applications import services as app_services
from approvals.models import ApplicationMaterial
from core.exceptions import DomainError
from core.uploads import UploadRejectedError, minimal_pdf, upload_check, upload_clean_name
from credit.enterprises import services as credit_services
from credit.models import Membership
from tests.workflows.conftest import make_item, new_draft

MAX = 10 * 1024 * 1024


def _image(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "white").save(buffer, format=fmt)
    return buffer.getvalue()


PNG = _image("PNG")
JPEG = _image("JPEG")


def _pdf(build) -> bytes:  # type: ignore[no-untyped-def]
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    build(writer)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _with_open_action(writer: PdfWriter, action: dict[str, object]) -> None:
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject(k): (NameObject(v) if str(v).startswith("/") else TextStringObject(v)) for k, v in action.items()}
    )


def _flate_bomb() -> bytes:
    """A valid one-page PDF whose content stream inflates to 50 MB of spaces."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    stream = DecodedStreamObject()
    stream.set_data(b" " * (50 * 1024 * 1024))
    encoded = stream.flate_encode(level=9)
    page[NameObject("/Contents")] = writer._add_object(encoded)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _scanned_page_pdf() -> bytes:
    """A real document: a page whose content stream is Flate-compressed text operators."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    stream = DecodedStreamObject()
    stream.set_data(b"BT /F1 12 Tf 72 720 Td (Letter of authorisation) Tj ET\n" * 200)
    page[NameObject("/Contents")] = writer._add_object(stream.flate_encode())
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


SCRIPT = b"<html><body><script>fetch('/admin/').then(r=>r.text()).then(alert)</script></body></html>"

# (label, file name, content, refusal code)
HOSTILE: list[tuple[str, str, bytes, str]] = [
    ("PDF header followed by HTML", "letter.pdf", b"%PDF-1.4\n" + SCRIPT + b"\n%%EOF\n", "file_active_content"),
    ("the same named .html", "letter.html", b"%PDF-1.4\n" + SCRIPT + b"\n%%EOF\n", "file_active_content"),
    ("PNG signature followed by a script", "scan.png", b"\x89PNG\r\n\x1a\n" + SCRIPT, "file_damaged"),
    ("JPEG signature followed by a script", "scan.jpg", b"\xff\xd8\xff\xe0" + SCRIPT, "file_damaged"),
    ("a real PDF with HTML appended", "a.pdf", minimal_pdf() + SCRIPT, "file_active_content"),
    ("a real PDF with bytes appended", "a.pdf", minimal_pdf() + b"\x00garbage\x01", "file_damaged"),
    ("a real PNG with a script appended", "a.png", PNG + SCRIPT, "file_damaged"),
    ("a real JPEG with a script appended", "a.jpg", JPEG + b"<script>alert(1)</script>", "file_damaged"),
    ("HTML followed by a real PDF", "a.pdf", SCRIPT + minimal_pdf(), "file_type_not_allowed"),
    ("an HTML page", "a.html", SCRIPT, "file_type_not_allowed"),
    (
        "an SVG with a script",
        "a.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "file_type_not_allowed",
    ),
    ("a GIF", "a.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "file_type_not_allowed"),
    (
        "a PDF with /JavaScript",
        "js.pdf",
        _pdf(lambda w: _with_open_action(w, {"/S": "/JavaScript", "/JS": "app.alert(1)"})),
        "file_active_content",
    ),
    (
        "a PDF with an /OpenAction launching a program",
        "launch.pdf",
        _pdf(lambda w: _with_open_action(w, {"/S": "/Launch", "/F": "cmd.exe"})),
        "file_active_content",
    ),
    (
        "a PDF with an attached file",
        "attach.pdf",
        _pdf(lambda w: w.add_attachment("x.exe", b"MZ")),
        "file_active_content",
    ),
    ("a truncated PDF", "cut.pdf", minimal_pdf()[:200], "file_damaged"),
    ("a PDF header and nothing else", "head.pdf", b"%PDF-1.7\n%%EOF\n", "file_damaged"),
    ("a truncated PNG", "cut.png", PNG[: len(PNG) // 2], "file_damaged"),
    ("a truncated JPEG", "cut.jpg", JPEG[: len(JPEG) // 2], "file_damaged"),
    ("a 50 MB FlateDecode bomb", "bomb.pdf", _flate_bomb(), "file_too_large"),
    ("a 100-megapixel PNG", "huge.png", _image("PNG", (10_000, 10_000), "1"), "file_too_many_pixels"),
    ("an encrypted PDF", "secret.pdf", _pdf(lambda w: w.encrypt("pw")), "file_damaged"),
    ("an empty file", "empty.pdf", b"", "file_empty"),
]

VALID: list[tuple[str, str, bytes, str]] = [
    ("a blank one-page PDF", "申请书.pdf", minimal_pdf(), "application/pdf"),
    ("a PDF with compressed text", "letter.pdf", _scanned_page_pdf(), "application/pdf"),
    ("a PNG", "scan.png", PNG, "image/png"),
    ("a JPEG", "photo.jpeg", JPEG, "image/jpeg"),
    ("a PDF under a path-traversal name", "../../etc/passwd.pdf", minimal_pdf(), "application/pdf"),
    ("a PDF under a right-to-left-override name", "invoice\u202efdp.exe", minimal_pdf(), "application/pdf"),
]


def _file(name: str, content: bytes) -> ContentFile:
    return ContentFile(content, name=name)


@pytest.mark.parametrize(("label", "name", "content", "code"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_every_hostile_file_is_refused_with_its_reason(label, name, content, code):
    with pytest.raises(UploadRejectedError) as excinfo:
        upload_check(_file(name, content), max_bytes=MAX)
    assert excinfo.value.code == code, label
    assert str(excinfo.value.message)  # a sentence for the form, not a traceback


@pytest.mark.parametrize(("label", "name", "content", "content_type"), VALID, ids=[v[0] for v in VALID])
def test_every_valid_file_is_accepted_with_its_detected_type(label, name, content, content_type):
    checked = upload_check(_file(name, content), max_bytes=MAX)
    assert checked.content_type == content_type
    assert checked.size == len(content)
    assert "/" not in checked.original_name and "\u202e" not in checked.original_name


def test_a_file_larger_than_the_limit_is_refused_by_its_real_size():
    with pytest.raises(UploadRejectedError) as excinfo:
        upload_check(_file("big.pdf", minimal_pdf() + b" " * 2048), max_bytes=1024)
    assert excinfo.value.code == "file_too_large"


def test_clean_names_drop_paths_and_bidirectional_controls():
    assert upload_clean_name("../../etc/passwd.pdf", extension="pdf") == "passwd.pdf"
    assert upload_clean_name("C:\\Users\\x\\scan.png", extension="png") == "scan.png"
    assert upload_clean_name("invoice\u202efdp.exe", extension="pdf") == "invoicefdp.exe"
    assert upload_clean_name("", extension="pdf") == "upload.pdf"
    assert upload_clean_name("...", extension="pdf") == "upload.pdf"


def _stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.mark.django_db
@pytest.mark.parametrize(("label", "name", "content", "code"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_materials_and_letters_store_nothing(
    label, name, content, code, bureau, owner, enterprise, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    version = make_item(bureau)
    draft = new_draft(owner, enterprise, version, with_material=False)
    with pytest.raises(DomainError) as excinfo:
        app_services.application_material_attach(
            actor=owner,
            application=draft,
            required_material_id=version.materials.get(position=1).pk,
            upload=_file(name, content),
        )
    assert excinfo.value.code == code
    assert not ApplicationMaterial.objects.filter(application=draft).exists()

    from tests import factories

    agent = factories.UserFactory(kind="enterprise")
    with pytest.raises(credit_services.MembershipError) as excinfo:
        credit_services.membership_request(
            actor=agent,
            enterprise=enterprise,
            role=Membership.Role.AGENT,
            authorisation_document=_file(name, content),
            valid_from=draft.created_at.date(),
            valid_until=draft.created_at.date().replace(year=draft.created_at.year + 1),
        )
    assert excinfo.value.code == "document_" + code.removeprefix("file_")
    assert not Membership.objects.filter(user=agent).exists()
    assert _stored_files(tmp_path) == []


@pytest.mark.django_db
def test_a_stored_letter_is_served_as_an_attachment_with_its_recorded_type(
    client, enterprise, administrator, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    from tests import factories

    agent = factories.UserFactory(kind="enterprise")
    import datetime

    today = datetime.date.today()
    membership = credit_services.membership_request(
        actor=agent,
        enterprise=enterprise,
        role=Membership.Role.AGENT,
        authorisation_document=_file("letter.html", PNG),  # a PNG under a lying name
        valid_from=today,
        valid_until=today + datetime.timedelta(days=365),
    )
    assert membership.authorisation_document_type == "image/png"
    stored = Path(membership.authorisation_document.path)
    assert stored.suffix == ".png" and "letter" not in stored.name  # a generated name
    for user in (agent, administrator):
        client.force_login(user)
        response = client.get(f"/files/letters/{membership.pk}/")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert b"".join(response.streaming_content) == PNG
    client.force_login(factories.UserFactory(kind="enterprise"))
    assert client.get(f"/files/letters/{membership.pk}/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("label", "name", "content", "code"),
    [
        h
        for h in HOSTILE
        if h[0] in {"PDF header followed by HTML", "a real PNG with a script appended", "an SVG with a script"}
    ],
)
def test_the_portal_form_shows_the_refusal_on_the_field_and_stores_nothing(
    label, name, content, code, client, bureau, owner, enterprise, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from approvals.models import Application
    from tests.workflows.test_views import filing

    settings.MEDIA_ROOT = tmp_path
    version = make_item(bureau)
    material = version.materials.get(position=1)
    client.force_login(owner)
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = client.post(
        reverse("portal:application_file", args=[version.pk]),
        filing(version, enterprise, **{f"material_{material.pk}": upload}),
    )
    assert response.status_code == 400
    errors = response.context["form"].errors.as_data()[f"material_{material.pk}"]
    assert [e.code for e in errors] == [code]
    assert not Application.objects.exists() and _stored_files(tmp_path) == []
