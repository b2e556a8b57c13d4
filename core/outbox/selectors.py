"""Reads of the outbox: a user's messages and unread count, and the state of every delivery."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from core.models import User
from core.outbox.models import Delivery, SiteMessage


def site_messages_of(*, user: User, unread_only: bool = False) -> QuerySet[SiteMessage]:
    messages = SiteMessage.objects.filter(recipient=user)
    if unread_only:
        messages = messages.filter(read_at__isnull=True)
    return messages.order_by("-created_at", "-id")


def site_message_of(*, user: User, pk: int) -> SiteMessage | None:
    """``user``'s own message ``pk`` (``None`` for anyone else's: the page answers 404)."""
    return SiteMessage.objects.filter(recipient=user, pk=pk).first()


def unread_count(*, user: User) -> int:
    return SiteMessage.objects.filter(recipient=user, read_at__isnull=True).count()


def outbox_status() -> list[dict[str, Any]]:
    """Deliveries counted by channel, kind and status (one row per channel and kind)."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    counted = (
        Delivery.objects.values("channel", "message__kind", "status")
        .annotate(n=Count("id"))
        .order_by("channel", "message__kind", "status")
    )
    for row in counted:
        key = (row["channel"], row["message__kind"])
        entry = rows.setdefault(key, {"channel": key[0], "kind": key[1], **dict.fromkeys(Delivery.Status.values, 0)})
        entry[row["status"]] = row["n"]
    return list(rows.values())
