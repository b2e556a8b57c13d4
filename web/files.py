"""Every stored file leaves the system here: one view asks who may read it and answers a download
with the type recorded at upload (``core.uploads.download_response``), never one guessed from a
name. Materials, inspection attachments and letters of authorisation; the admin links here too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.db.models import Model
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from approvals import permissions
from approvals.models import ApplicationMaterial, InspectionAttachment, WrittenNotice
from approvals.permissions import user_may_view_task
from core.audit_reads import audit_read_mark
from core.models import User
from core.uploads import download_response
from credit.enterprises import selectors as credit_selectors
from credit.models import Membership


@dataclass(frozen=True)
class StoredFile:
    file: FieldFile
    content_type: str
    filename: str
    obj: Model


def _member_of(user: User, enterprise_id: int) -> bool:
    return user.is_enterprise_user and credit_selectors.enterprise_get_for_user(user=user, pk=enterprise_id) is not None


def _material(user: User, pk: int) -> StoredFile | None:
    material = ApplicationMaterial.objects.select_related("application__item_version").filter(pk=pk).first()
    if material is None:
        return None
    application = material.application
    if user.is_enterprise_user:
        allowed = _member_of(user, application.enterprise_id)
    else:
        allowed = permissions.user_may_view_application(user=user, application=application)
    if not allowed:
        return None
    return StoredFile(material.file, material.content_type, material.original_name, material)


def _inspection_attachment(user: User, pk: int) -> StoredFile | None:
    attachment = InspectionAttachment.objects.select_related("inspection__task").filter(pk=pk).first()
    if attachment is None:
        return None
    task = attachment.inspection.task
    if not (user_may_view_task(user=user, task=task) or _member_of(user, task.enterprise_id)):
        return None
    return StoredFile(attachment.file, attachment.content_type, attachment.original_name, attachment)


def _letter(user: User, pk: int) -> StoredFile | None:
    membership = Membership.objects.filter(pk=pk).exclude(authorisation_document="").first()
    if membership is None:
        return None
    # The agent who uploaded it, and the administrators who confirm memberships.
    if membership.user_id != user.pk and not user.has_perm("credit.view_membership"):
        return None
    extension = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}.get(
        membership.authorisation_document_type, ""
    )
    return StoredFile(
        membership.authorisation_document,
        membership.authorisation_document_type,
        membership.authorisation_document_name or f"authorisation-{membership.pk}{extension}",
        membership,
    )


def _notice(user: User, pk: int) -> StoredFile | None:
    """A written notice: the applicant's enterprise, and staff who may read the application."""
    notice = WrittenNotice.objects.select_related("application__item_version").filter(pk=pk).first()
    if notice is None:
        return None
    application = notice.application
    if user.is_enterprise_user:
        allowed = _member_of(user, application.enterprise_id)
    else:
        allowed = permissions.user_may_view_application(user=user, application=application)
    if not allowed:
        return None
    return StoredFile(notice.file, "application/pdf", f"{notice.number}.pdf", notice)


def _card_notice(user: User, pk: int) -> StoredFile | None:
    """The 督办 or 整改 notice of a supervision card: whoever may see the card."""
    from approvals.supervision.card_services import cards_visible_to

    if not user.is_bureau_staff:
        return None
    card = cards_visible_to(user=user).filter(pk=pk).exclude(notice_file="").first()
    if card is None:
        return None
    return StoredFile(card.notice_file, "application/pdf", f"{card.notice_number}.pdf", card)


_KINDS: dict[str, Callable[[User, int], StoredFile | None]] = {
    "card_notice": _card_notice,
    "material": _material,
    "inspection_attachment": _inspection_attachment,
    "letter": _letter,
    "notice": _notice,
}


def stored_file_for(user: User, kind: str, pk: int) -> StoredFile | None:
    """The stored file ``kind`` ``pk`` if ``user`` may read it; ``None`` when it does not exist or
    ``user`` may not read it (the two look the same). The one permission rule of every download,
    the site's and the API's."""
    loader = _KINDS.get(kind)
    if loader is None:
        return None
    return loader(user, pk)


def stored_file_response(request: HttpRequest, stored: StoredFile) -> FileResponse:
    """The download of a file ``stored_file_for`` allowed: an attachment with the recorded type
    (``nosniff``), and the read declared for the auditor trail. A file missing from storage is 404."""
    try:
        handle = stored.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    audit_read_mark(request, object_type=stored.obj._meta.label_lower, object_id=str(stored.obj.pk))
    return download_response(file=handle, content_type=stored.content_type, filename=stored.filename)


@login_required
@require_GET
def file_download(request: HttpRequest, kind: str, pk: int) -> FileResponse:
    """Anyone who may not read the file, or asks for one that does not exist, gets 404."""
    stored = stored_file_for(request.user, kind, pk)  # type: ignore[arg-type]
    if stored is None:
        raise Http404
    return stored_file_response(request, stored)
