"""Reads of the catalogue of approval items."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from approvals.models import ApprovalItemVersion


def items_published(*, department_id: int | None = None, query: str = "") -> QuerySet[ApprovalItemVersion]:
    """The public list: published versions, optionally of one department, matching a keyword."""
    versions = ApprovalItemVersion.objects.filter(status=ApprovalItemVersion.Status.PUBLISHED).select_related(
        "item", "lead_department"
    )
    if department_id is not None:
        versions = versions.filter(
            Q(lead_department_id=department_id) | Q(co_review_departments__id=department_id)
        ).distinct()
    if query:
        versions = versions.filter(
            Q(name__icontains=query) | Q(item__code__icontains=query) | Q(legal_basis__icontains=query)
        )
    return versions.order_by("item__code")
