"""What the approvals tell subscribed external systems (``core.webhooks``): an application's
status changing, its decision, a certificate's revocation. Called by the services that decide
them, in their transactions. The payloads hold identifiers and public numbers only (the
reference number, the enterprise's USCC, the item code, the certificate number), the new state
and its time; a subscriber reads anything more through the API with its own authority.
docs/webhooks.md lists every field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.webhooks.models import EventKind
from core.webhooks.services import webhook_emit

if TYPE_CHECKING:
    from approvals.applications.models import Application, ApplicationEvent, Certificate, Decision


def _application(application: Application) -> dict[str, Any]:
    return {
        "id": application.pk,
        "reference": application.reference or "",
        "enterprise_uscc": application.enterprise.uscc,
        "item_code": application.item_version.item.code,
        "item_version": application.item_version.number,
    }


def status_changed(application: Application, event: ApplicationEvent) -> None:
    """``application.status_changed``: one per history event that moved the status."""

    def payload() -> dict[str, Any]:
        return {
            "application": _application(application),
            "from_status": event.from_status,
            "to_status": event.to_status,
            "action": event.action,
            "changed_at": event.at.isoformat(),
        }

    webhook_emit(
        kind=EventKind.APPLICATION_STATUS_CHANGED,
        payload=payload,
        dedupe_key=f"application_event:{event.pk}",
        occurred_at=event.at,
    )


def decided(application: Application, decision: Decision, certificate: Certificate | None) -> None:
    """``application.decided``: the outcome, when, and the certificate it issued."""

    def payload() -> dict[str, Any]:
        return {
            "application": _application(application),
            "outcome": decision.outcome,
            "route": application.route,
            "decided_at": decision.decided_at.isoformat(),
            "certificate_number": certificate.number if certificate is not None else None,
        }

    webhook_emit(
        kind=EventKind.APPLICATION_DECIDED,
        payload=payload,
        dedupe_key=f"decision:{decision.pk}",
        occurred_at=decision.decided_at,
    )


def certificate_revoked(certificate: Certificate) -> None:
    """``certificate.revoked``: the number, when, and the reason the public verification page
    shows anyway."""
    assert certificate.revoked_at is not None

    def payload() -> dict[str, Any]:
        return {
            "certificate_number": certificate.number,
            "application_reference": certificate.application.reference or "",
            "enterprise_uscc": certificate.holder_code,
            "revoked_at": certificate.revoked_at.isoformat() if certificate.revoked_at else None,
            "reason": certificate.revocation_reason,
        }

    webhook_emit(
        kind=EventKind.CERTIFICATE_REVOKED,
        payload=payload,
        dedupe_key=f"certificate_revoked:{certificate.pk}",
        occurred_at=certificate.revoked_at,
    )
