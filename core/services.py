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


AUDITOR_READ = "auditor.read"
# A read by the system of another authority (a grade look-up, with its purpose), logged the same way.
SYSTEM_READ = "system.read"


def audit_read_record(
    *, actor: User, object_type: str, object_id: str, data: dict[str, Any] | None = None, action: str = AUDITOR_READ
) -> AuditEvent:
    """Log that ``actor`` (an auditor, or with ``action=SYSTEM_READ`` a system account) read
    something; ``object_id`` may be ``"*"`` for a list."""
    return AuditEvent.objects.create(
        actor=actor, action=action, object_type=object_type, object_id=object_id, data=data or {}
    )
