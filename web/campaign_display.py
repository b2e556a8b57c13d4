"""What the campaign pages of every audience share: counts per campaign and item names."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from approvals.models import (
    ApprovalItemVersion,
    Campaign,
    CampaignTarget,
    InspectionTask,
)

Status = Campaign.Status


def with_counts(queryset: Any) -> Any:
    """Targets and drawn tasks per campaign as two correlated subqueries: constant query count."""
    targets = (
        CampaignTarget.objects.filter(campaign=OuterRef("pk"))
        .order_by()
        .values("campaign")
        .annotate(n=Count("pk"))
        .values("n")
    )
    tasks = (
        InspectionTask.objects.filter(campaign=OuterRef("pk"))
        .order_by()
        .values("campaign")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(
        target_count=Coalesce(Subquery(targets, output_field=IntegerField()), 0),
        sample_count=Coalesce(Subquery(tasks, output_field=IntegerField()), 0),
    )


def items_with_names(campaign: Campaign) -> list[tuple[str, str]]:
    codes = list(campaign.items.order_by("code").values_list("pk", "code"))
    names = dict(
        ApprovalItemVersion.objects.filter(
            item_id__in=[pk for pk, _code in codes], status=ApprovalItemVersion.Status.PUBLISHED
        ).values_list("item_id", "name")
    )
    return [(code, names.get(pk, "")) for pk, code in codes]
