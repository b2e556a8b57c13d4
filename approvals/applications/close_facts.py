"""The close facts of applications (效能监管): computed with the pure clock
(``approvals.calendar.cycle``) and stored on the row when a case closes, so the efficiency
dashboard aggregates columns in SQL.

``application_close_facts_store`` is called by the one place a case closes
(``services._transition`` into a closed status), inside that transition's transaction and after
its ``ApplicationEvent``: the facts are part of that transition. ``close_facts_backfill`` fills the
cases closed before the columns existed (``manage.py efficiency_backfill``), and recomputes the
provisional ones after a calendar year is entered, with the same computation, a batch per
transaction.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from approvals.applications import fast_track
from approvals.calendar import clock, cycle
from approvals.calendar import selectors as calendar_selectors
from approvals.models import Application, ClockEvent, SupplementNotice
from approvals.supervision import rollup
from core.models import AuditEvent

FACT_FIELDS = (
    "closed_on",
    "working_days_taken",
    "on_time_promised",
    "on_time_statutory",
    "suspended_working_days",
    "supplement_requests",
    "close_facts_provisional",
)


def closed_on_of(application: Application) -> datetime.date | None:
    """The day the case closed for good (Asia/Shanghai): its decision (or non-acceptance), or its
    withdrawal; ``None`` while open."""
    if application.status not in Application.CLOSED_STATUSES:
        return None
    moment = application.withdrawn_at if application.status == Application.Status.WITHDRAWN else application.decided_at
    return timezone.localtime(moment).date() if moment is not None else None


def _facts(
    application: Application,
    events: Sequence[clock.ClockFact],
    supplements: int,
    calendar: clock.WorkingCalendar,
) -> dict[str, Any] | None:
    closed_on = closed_on_of(application)
    if closed_on is None:
        return None
    facts = cycle.close_facts(
        events,
        accepted_on=application.accepted_on,
        closed_on=closed_on,
        promised_days=fast_track.promised_days(application),
        statutory_days=application.item_version.statutory_limit_days,
        calendar=calendar,
    )
    return {
        "closed_on": facts.closed_on,
        "working_days_taken": facts.working_days,
        "on_time_promised": facts.on_time_promised,
        "on_time_statutory": facts.on_time_statutory,
        "suspended_working_days": facts.suspended_days,
        "supplement_requests": supplements,
        "close_facts_provisional": facts.provisional,
    }


def application_close_facts_store(
    application: Application, *, calendar: clock.WorkingCalendar | None = None
) -> dict[str, Any] | None:
    """Compute and store the close facts of a closed ``application`` (in the caller's transaction,
    under its row lock); sets them on the object too. Returns them, ``None`` for an open case."""
    events = list(ClockEvent.objects.filter(application_id=application.pk).order_by("at", "id"))
    supplements = SupplementNotice.objects.filter(application_id=application.pk).count()
    facts = _facts(application, events, supplements, calendar or calendar_selectors.calendar_load())
    if facts is None:
        return None
    Application.objects.filter(pk=application.pk).update(**facts)
    rollup.efficiency_month_touched(facts["closed_on"])
    for name, value in facts.items():
        setattr(application, name, value)
    return facts


def close_facts_pending(*, provisional: bool = False) -> Any:
    """The closed cases without close facts (``application_facts_missing`` serves the filter), and
    with ``provisional`` also those whose facts rest on an uncovered calendar year."""
    condition = Q(closed_on__isnull=True)
    if provisional:
        condition |= Q(close_facts_provisional=True)
    return Application.objects.filter(condition, status__in=Application.CLOSED_STATUSES)


def close_facts_backfill(
    *,
    batch_size: int = 1000,
    provisional: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Store the close facts of every closed case that has none (and, with ``provisional``,
    recompute the provisional ones), ``batch_size`` cases per transaction, each batch locked and
    re-read, so it can be stopped and re-run (idempotent: a case once filled is not read again, and
    a recomputation writes what the close hook would). One audit event per batch. ``progress`` is
    called with (done, total) after each batch. Returns how many cases were written."""
    calendar = calendar_selectors.calendar_load()
    total = close_facts_pending(provisional=provisional).count()
    done = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = list(
                close_facts_pending(provisional=provisional)
                .filter(pk__gt=last_pk)
                .select_related("item_version", "fast_track_decision")
                .select_for_update(of=("self",))
                .order_by("pk")[:batch_size]
            )
            if not batch:
                break
            last_pk = batch[-1].pk
            written = _store_many(batch, calendar)
            AuditEvent.objects.create(
                actor=None,
                action="efficiency.close_facts_backfilled",
                object_type="approvals.application",
                object_id="*",
                data={"first": batch[0].pk, "last": last_pk, "count": written, "calendar": calendar.version},
            )
        done += written
        if progress is not None:
            progress(done, total)
    return done


def _store_many(applications: Iterable[Application], calendar: clock.WorkingCalendar) -> int:
    applications = list(applications)
    ids = [a.pk for a in applications]
    events: dict[int, list[ClockEvent]] = defaultdict(list)
    for event in ClockEvent.objects.filter(application_id__in=ids).order_by("application_id", "at", "id"):
        events[event.application_id].append(event)
    supplements = dict(
        SupplementNotice.objects.filter(application_id__in=ids)
        .values("application_id")
        .annotate(n=Count("id"))
        .values_list("application_id", "n")
    )
    changed = []
    for application in applications:
        facts = _facts(application, events[application.pk], supplements.get(application.pk, 0), calendar)
        if facts is None:
            continue
        for name, value in facts.items():
            setattr(application, name, value)
        changed.append(application)
    Application.objects.bulk_update(changed, list(FACT_FIELDS))
    for month in {application.closed_on.replace(day=1) for application in changed if application.closed_on}:
        rollup.efficiency_month_touched(month)
    return len(changed)
