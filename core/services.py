"""Writes of the shared kernel."""

from __future__ import annotations

from typing import Any

from django.db import models

from core.actors import real_actor
from core.models import AuditEvent, User


def audit_event_record(
    *, actor: User | None, action: str, obj: models.Model, data: dict[str, Any] | None = None
) -> AuditEvent:
    """Append one audit line for ``obj``.

    Call it inside the transaction of the change it records. ``actor`` is ``None`` only for the
    system itself (timers, commands run without a user).
    """
    return AuditEvent.objects.create(
        actor=real_actor(actor),
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        data=data or {},
    )


def audit_read_record(
    *, actor: User, object_type: str, object_id: str, data: dict[str, Any] | None = None
) -> AuditEvent:
    """Log that ``actor`` (an auditor) read something; ``object_id`` may be ``"*"`` for a list."""
    return AuditEvent.objects.create(
        actor=actor, action="auditor.read", object_type=object_type, object_id=object_id, data=data or {}
    )
