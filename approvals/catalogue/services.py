"""Writes of the approval list. A published version is never edited; a change is a new version."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from approvals.catalogue.models import VERSION_CONTENT_FIELDS
from approvals.models import ApprovalItem, ApprovalItemVersion, Department, RequiredMaterial
from core.exceptions import DomainError
from core.models import User
from core.services import audit_event_record


class CatalogueError(DomainError):
    pass


def _require_administrator(actor: User | None) -> None:
    if actor is not None and not (actor.is_active and actor.has_perm("approvals.administer")):
        raise CatalogueError("permission_denied", _("Only an administrator may change the approval list."))


def item_draft_create(
    *,
    actor: User | None,
    code: str,
    co_review_departments: list[Department] | None = None,
    materials: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> ApprovalItemVersion:
    """A new draft version of item ``code`` (the item is created on first use).

    Errors: ``permission_denied``, ``promised_over_statutory``, ``commitment_incomplete``."""
    _require_administrator(actor)
    if fields.get("promised_limit_days", 0) > fields.get("statutory_limit_days", 0):
        raise CatalogueError("promised_over_statutory", _("The promised limit cannot exceed the statutory limit."))
    if fields.get("reform_mode") == ApprovalItemVersion.ReformMode.COMMITMENT and not (
        fields.get("commitment_min_grade")
        and (fields.get("commitment_notice") or "").strip()
        and (fields.get("verification_window_days") or 0) >= 1
        and fields.get("supervising_department") is not None
    ):
        raise CatalogueError(
            "commitment_incomplete",
            _(
                "A commitment-mode item needs a lowest grade, a notification, a verification window and a "
                "supervising department."
            ),
        )
    with transaction.atomic():
        item, _created = ApprovalItem.objects.get_or_create(code=code)
        latest = item.versions.select_for_update().order_by("-number").first()
        version = ApprovalItemVersion.objects.create(item=item, number=(latest.number + 1) if latest else 1, **fields)
        version.co_review_departments.set(co_review_departments or [])
        for position, material in enumerate(materials or [], start=1):
            RequiredMaterial.objects.create(item_version=version, position=position, **material)
        audit_event_record(
            actor=actor, action="item.draft_created", obj=version, data={"code": code, "number": version.number}
        )
    return version


def item_version_publish(*, actor: User | None, version: ApprovalItemVersion) -> ApprovalItemVersion:
    """Publish a draft; the previously published version of the item is closed in the same
    transaction. Errors: ``permission_denied``, ``version_not_draft``, ``version_has_no_materials``."""
    _require_administrator(actor)
    now = timezone.now()
    with transaction.atomic():
        locked = ApprovalItemVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status != ApprovalItemVersion.Status.DRAFT:
            raise CatalogueError("version_not_draft", _("Only a draft can be published."))
        if not locked.materials.exists():
            raise CatalogueError("version_has_no_materials", _("List the required materials before publishing."))
        previous = list(
            ApprovalItemVersion.objects.select_for_update().filter(
                item_id=locked.item_id, status=ApprovalItemVersion.Status.PUBLISHED
            )
        )
        for old in previous:
            ApprovalItemVersion.objects.filter(pk=old.pk).update(
                status=ApprovalItemVersion.Status.CLOSED, closed_at=now
            )
        ApprovalItemVersion.objects.filter(pk=locked.pk).update(
            status=ApprovalItemVersion.Status.PUBLISHED, published_at=now, published_by=actor
        )
        audit_event_record(
            actor=actor,
            action="item.published",
            obj=locked,
            data={"code": locked.item.code, "number": locked.number, "closed": [old.number for old in previous]},
        )
    version.refresh_from_db()
    return version


def item_version_copy(*, actor: User | None, version: ApprovalItemVersion) -> ApprovalItemVersion:
    """A new draft that starts as a copy of ``version`` (how a published item is changed)."""
    fields = {name: getattr(version, name) for name in VERSION_CONTENT_FIELDS}
    materials = [
        {
            "name": m.name,
            "description": m.description,
            "mandatory": m.mandatory,
            "may_be_missing": m.may_be_missing,
            "replaced_by_commitment": m.replaced_by_commitment,
        }
        for m in version.materials.all()
    ]
    return item_draft_create(
        actor=actor,
        code=version.item.code,
        co_review_departments=list(version.co_review_departments.all()),
        materials=materials,
        **fields,
    )
