"""What a request read, declared by the view, so one place can log an auditor's reads.

A view calls ``audit_read_mark(request, ...)`` with the object it showed; the auditor-read
middleware (``web.audit_reads``) writes one ``auditor.read`` event for every successful GET
(or HEAD) by an auditor, with the marked object or, when the view marked nothing, the object its
URL names. A request of another method is recorded only when its view marked a read (the
eligibility replay is a POST). Views mark unconditionally: the kernel knows nothing of roles, it
only carries the mark, and the middleware decides whether the reader is an auditor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

_ATTRIBUTE = "_reformflow_audit_read"


@dataclass(frozen=True)
class AuditRead:
    object_type: str
    object_id: str
    data: dict[str, Any] = field(default_factory=dict)


def audit_read_mark(
    request: HttpRequest, *, object_type: str, object_id: str, data: dict[str, Any] | None = None
) -> None:
    """Declare what this request read (the last mark wins); ``object_id`` may be ``"*"`` for a list."""
    setattr(request, _ATTRIBUTE, AuditRead(object_type=object_type, object_id=object_id, data=data or {}))


def audit_read_marked(request: HttpRequest) -> AuditRead | None:
    return getattr(request, _ATTRIBUTE, None)
