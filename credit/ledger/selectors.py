"""Reads of the credit ledger: entry facts for the grade, the grade as of an instant, histories."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone

from core.exceptions import DomainError
from credit.enterprises.models import Enterprise
from credit.ledger import scoring
from credit.ledger.models import CreditRequest, KindEffect, LedgerEntry, ManualEntryProposal, RequestStatus

_FACT_FIELDS = (
    "seq",
    "kind_code",
    "kind__tier",
    "points",
    "occurred_at",
    "recorded_at",
    "kind__min_window_months",
    "kind__max_window_months",
    "kind__forces_grade_d",
    "kind__effect",
    "reverses_id",
)


def _fact(row: tuple) -> scoring.EntryFact:  # type: ignore[type-arg]
    seq, code, tier, points, occurred, recorded, min_w, max_w, forces, effect, reverses = row
    return scoring.EntryFact(
        seq=seq,
        kind_code=code,
        tier=tier,
        points=points,
        occurred_at=occurred,
        recorded_at=recorded,
        min_window_months=min_w,
        max_window_months=max_w,
        forces_grade_d=forces,
        effect=effect,
        reverses=reverses,
    )


def entry_facts(*, enterprise: Enterprise | int) -> list[scoring.EntryFact]:
    """Every entry of the enterprise as scoring facts (one query)."""
    pk = enterprise if isinstance(enterprise, int) else enterprise.pk
    rows = LedgerEntry.objects.filter(enterprise_id=pk).order_by("seq").values_list(*_FACT_FIELDS)
    return [_fact(row) for row in rows]


def entry_facts_grouped() -> Iterator[tuple[int, list[scoring.EntryFact]]]:
    """(enterprise id, its facts) for every enterprise with entries, streamed in one ordered pass:
    re-grading everyone holds one enterprise's facts in memory at a time."""
    rows = LedgerEntry.objects.order_by("enterprise_id", "seq").values_list("enterprise_id", *_FACT_FIELDS)
    current: int | None = None
    facts: list[scoring.EntryFact] = []
    for row in rows.iterator(chunk_size=20000):
        if row[0] != current:
            if current is not None:
                yield current, facts
            current, facts = row[0], []
        facts.append(_fact(row[1:]))
    if current is not None:
        yield current, facts


def credit_grade_as_of(*, enterprise: Enterprise, as_of: datetime.datetime | None = None) -> scoring.GradeResult:
    return scoring.grade_as_of(entry_facts(enterprise=enterprise), as_of or timezone.now())


class AsOfError(DomainError):
    pass


def parse_as_of(text: str) -> datetime.datetime:
    """ISO 8601 instant; a date alone means the end of that day in Asia/Shanghai; a time without
    zone is Asia/Shanghai. Error: ``as_of_invalid``."""
    from django.utils.translation import gettext_lazy as _

    value = (text or "").strip()
    try:
        if len(value) == 10:
            day = datetime.date.fromisoformat(value)
            return timezone.make_aware(datetime.datetime.combine(day, datetime.time.max), scoring.SHANGHAI)
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise AsOfError("as_of_invalid", _("Give a date (2026-05-31) or an ISO 8601 time.")) from None
    if moment.tzinfo is None:
        moment = timezone.make_aware(moment, scoring.SHANGHAI)
    return moment


def month_ends(*, months: int, until: datetime.datetime | None = None) -> list[datetime.datetime]:
    """The ends of the last ``months`` months (Asia/Shanghai), the current instant last."""
    now = until or timezone.now()
    local = now.astimezone(scoring.SHANGHAI)
    first_of_month = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    instants = []
    for back in range(months - 1, 0, -1):
        start_next = scoring.add_months(first_of_month, -back + 1)
        instants.append(start_next - datetime.timedelta(microseconds=1))
    instants.append(now)
    return instants


def score_history(*, enterprise: Enterprise, months: int = 36) -> list[tuple[datetime.datetime, int, str]]:
    return scoring.score_series(entry_facts(enterprise=enterprise), month_ends(months=months))


def entries_of(*, enterprise: Enterprise) -> QuerySet[LedgerEntry]:
    return (
        LedgerEntry.objects.filter(enterprise=enterprise)
        .select_related("kind", "recorded_by", "approved_by")
        .order_by("-occurred_at", "-seq")
    )


def hidden_from_public(*, enterprise: Enterprise) -> set[int]:
    """Entries whose effect was ended by a repair or reversal, and the corrections themselves: the
    enterprise's public view leaves them out (auditors see everything)."""
    ended = set(
        LedgerEntry.objects.filter(enterprise=enterprise, reverses__isnull=False).values_list("reverses_id", flat=True)
    )
    corrections = set(
        LedgerEntry.objects.filter(enterprise=enterprise)
        .exclude(kind__effect=KindEffect.SCORE)
        .values_list("seq", flat=True)
    )
    return ended | corrections


def requests_of(*, enterprise: Enterprise) -> QuerySet[CreditRequest]:
    return CreditRequest.objects.filter(enterprise=enterprise).select_related("entry").order_by("-submitted_at", "-id")


def requests_open() -> QuerySet[CreditRequest]:
    return (
        CreditRequest.objects.filter(status=RequestStatus.PENDING)
        .select_related("enterprise", "entry", "submitted_by")
        .order_by("due_on", "id")
    )


def proposals_open() -> QuerySet[ManualEntryProposal]:
    return (
        ManualEntryProposal.objects.filter(status=RequestStatus.PENDING)
        .select_related("enterprise", "kind", "proposed_by", "reverses")
        .order_by("proposed_at", "id")
    )


def enterprise_by_uscc(uscc: str) -> Enterprise | None:
    return Enterprise.objects.filter(uscc=(uscc or "").strip().upper()).first()
