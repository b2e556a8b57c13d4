"""What the credit ledger tells subscribed external systems (``core.webhooks``): an entry
recorded, and the grade it moved. Called by ``credit_entry_append`` in its transaction. The
payloads hold the entry's sequence number, the enterprise's USCC, the kind's code and version, the
points and the two instants; never the reason, the people or the source (a subscriber reads those
through the API with its own authority). docs/webhooks.md lists every field.

A grade also changes when an entry's publication window ends, with no write to decide it: no event
is sent then (a subscriber asks for the grade as of the instant it needs)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from core.webhooks.models import EventKind
from core.webhooks.services import webhook_emit

if TYPE_CHECKING:
    from credit.ledger.models import LedgerEntry


def entry_recorded(entry: LedgerEntry) -> None:
    """``credit.entry_recorded``: every entry appended, corrections (``reverses``) included."""

    def payload() -> dict[str, Any]:
        return {
            "seq": entry.seq,
            "enterprise_uscc": entry.enterprise.uscc,
            "kind_code": entry.kind_code,
            "kind_version": entry.kind_version,
            "tier": entry.kind.tier,
            "points": entry.points,
            "reverses_seq": entry.reverses_id,
            "occurred_at": entry.occurred_at.isoformat(),
            "recorded_at": entry.recorded_at.isoformat(),
        }

    webhook_emit(
        kind=EventKind.CREDIT_ENTRY_RECORDED,
        payload=payload,
        dedupe_key=f"ledger_entry:{entry.seq}",
        occurred_at=entry.recorded_at,
    )


def grade_changed(entry: LedgerEntry, *, before: str, after: str, as_of: datetime.datetime) -> None:
    """``credit.grade_changed``: the grade as of ``as_of`` moved from ``before`` to ``after``
    because of ``entry``."""
    webhook_emit(
        kind=EventKind.CREDIT_GRADE_CHANGED,
        payload={
            "enterprise_uscc": entry.enterprise.uscc,
            "grade_before": before,
            "grade_after": after,
            "as_of": as_of.isoformat(),
            "entry_seq": entry.seq,
        },
        dedupe_key=f"grade:{entry.seq}",
        occurred_at=as_of,
    )
