"""The deadlines under supervision, read from the stored facts as ``ladder.Watched`` values: cases
(the promised and the statutory limit, from their clock events), the window's and the
departments' steps, refusals without reasons, inspections and commitment verifications,
rectification reports, the credit office's objection and repair decisions, and the policy
office's decisions on eligible policy applications.

Each source reads in a constant number of queries per batch of subjects (never one per subject),
for the sweep (``only_open=True``: subjects still open at the start of ``today``, or closed during
it) and for the replay (every subject that ever had a deadline).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from approvals.applications import fast_track
from approvals.calendar import clock
from approvals.models import (
    Application,
    ClockEvent,
    InspectionTask,
    RectificationOrder,
    ReviewOpinion,
    Step,
    SupervisionCard,
    SupplementNotice,
)
from approvals.supervision import ladder

Subject = SupervisionCard.Subject
BATCH = 2000


@dataclass(frozen=True)
class Target:
    """A watched deadline and where its cards go."""

    watched: ladder.Watched
    subject_type: str
    subject_id: int
    label: str
    rules_key: str  # the SUPERVISION_LADDER entry that applies
    application_id: int | None = None
    department_id: int | None = None
    office: str = ""
    handler_id: int | None = None


def rules_for(key: str) -> ladder.Rules:
    values: Mapping[str, Any] = settings.SUPERVISION_LADDER.get(key, {})
    default: Mapping[str, Any] = settings.SUPERVISION_LADDER.get("default", {})
    return ladder.Rules(**{**default, **values})


def _local_day(moment: datetime.datetime | None) -> datetime.date | None:
    return timezone.localtime(moment).date() if moment is not None else None


def _start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


_DUE_CACHE: dict[tuple[int, int, datetime.date, int], datetime.date] = {}


def _due_after(start: datetime.date, days: int, calendar: clock.WorkingCalendar) -> datetime.date:
    """``clock.due_after(...).on``, remembered: a sweep computes the same few thousand
    (opening day, limit) pairs for a hundred thousand steps."""
    key = (id(calendar), calendar.version, start, days)
    found = _DUE_CACHE.get(key)
    if found is None:
        if len(_DUE_CACHE) > 100_000:
            _DUE_CACHE.clear()
        found = _DUE_CACHE[key] = clock.due_after(start, days, calendar=calendar).on
    return found


def _since(today: datetime.date) -> datetime.datetime:
    """The sweep looks back this far at subjects already done: a sweep that did not run for a few
    days (an outage) still raises the rungs of those days (``SUPERVISION_SWEEP_LOOKBACK_DAYS``);
    ``manage.py supervision_sweep --full`` looks at everything."""
    return _start_of(today - datetime.timedelta(days=settings.SUPERVISION_SWEEP_LOOKBACK_DAYS))


def _carded(subject_type: str) -> Q:
    """Subjects with a yellow card still waiting: its red rung depends on the answer, however long
    ago the subject itself was done."""
    waiting = SupervisionCard.objects.filter(
        subject_type=subject_type,
        level="yellow",
        status__in=[SupervisionCard.Status.AWAITING_ANSWER, SupervisionCard.Status.ANSWERED],
    ).values("subject_id")
    return Q(pk__in=waiting)


def _chunks(queryset: Any) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in queryset.iterator(chunk_size=BATCH):
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _card_facts(subject_type: str, ids: Iterable[int]) -> dict[tuple[int, str], dict[str, datetime.date | None]]:
    """The supervisor's and the department's acts on the yellow cards of these subjects: answered,
    settled (accepted or closed), escalated — the facts the red rung depends on."""
    facts: dict[tuple[int, str], dict[str, datetime.date | None]] = {}
    cards = SupervisionCard.objects.filter(subject_type=subject_type, subject_id__in=list(ids), level="yellow")
    for _card_id, subject_id, trigger, action, on in cards.filter(events__isnull=False).values_list(
        "pk", "subject_id", "trigger", "events__action", "events__on"
    ):
        slot = facts.setdefault((subject_id, trigger), {"answered": None, "settled": None, "escalated": None})
        if action == "answered":
            slot["answered"] = on
        elif action in ("accepted", "closed"):
            slot["settled"] = on
        elif action == "escalated":
            slot["escalated"] = on
    return facts


def _with_card_facts(watched: ladder.Watched, facts: Mapping[str, datetime.date | None] | None) -> ladder.Watched:
    if not facts:
        return watched
    return ladder.Watched(
        **{
            **watched.__dict__,
            "answered_on": facts.get("answered"),
            "settled_on": facts.get("settled"),
            "escalated_on": facts.get("escalated"),
        }
    )


def _suspensions(events: Iterable[ClockEvent]) -> tuple[tuple[datetime.date, datetime.date | None], ...]:
    periods: list[tuple[datetime.date, datetime.date | None]] = []
    start: datetime.date | None = None
    for event in events:
        if event.kind == ClockEvent.Kind.SUSPENDED and start is None:
            start = event.on
        elif event.kind == ClockEvent.Kind.RESUMED and start is not None:
            periods.append((start, event.on))
            start = None
    if start is not None:
        periods.append((start, None))
    return tuple(periods)


def _events_by_application(
    application_ids: Iterable[int], *, kinds: tuple[str, ...] | None = None
) -> dict[int, list[ClockEvent]]:
    grouped: dict[int, list[ClockEvent]] = defaultdict(list)
    rows = ClockEvent.objects.filter(application_id__in=list(application_ids)).only(
        "id", "application_id", "kind", "on", "at", "days"
    )
    if kinds is not None:
        rows = rows.filter(kind__in=kinds)
    for event in rows.order_by("at", "id"):
        grouped[event.application_id].append(event)
    return grouped


# --- cases -----------------------------------------------------------------------------------------


def _case_dues(
    application: Application, events: list[ClockEvent], calendar: clock.WorkingCalendar
) -> tuple[tuple[tuple[datetime.date, datetime.date], ...], tuple[tuple[datetime.date, datetime.date], ...]]:
    """Both deadlines as they were known after each day with clock events."""
    promised_days = fast_track.promised_days(application)
    statutory_days = application.item_version.statutory_limit_days
    promised: list[tuple[datetime.date, datetime.date]] = []
    statutory: list[tuple[datetime.date, datetime.date]] = []
    moving = [event for event in events if event.kind not in (ClockEvent.Kind.RECEIVED, ClockEvent.Kind.ACCEPTED)]
    accepted = [event for event in events if event.kind == ClockEvent.Kind.ACCEPTED]
    if not moving and len(accepted) == 1:
        # the usual case: accepted, never suspended or extended (what application_deadline gives)
        day = accepted[0].on
        return ((day, _due_after(day, promised_days, calendar)),), ((day, _due_after(day, statutory_days, calendar)),)
    for day in sorted({event.on for event in events}):
        known = [event for event in events if event.on <= day]
        result = clock.application_deadline(
            known, promised_days=promised_days, statutory_days=statutory_days, calendar=calendar
        )
        if result.due is not None and (not promised or promised[-1][1] != result.due.on):
            promised.append((day, result.due.on))
        if result.statutory_due is not None and (not statutory or statutory[-1][1] != result.statutory_due.on):
            statutory.append((day, result.statutory_due.on))
    return tuple(promised), tuple(statutory)


def cases(*, today: datetime.date, only_open: bool, calendar: clock.WorkingCalendar) -> Iterator[Target]:
    query = (
        Application.objects.filter(accepted_on__isnull=False)
        .select_related("item_version", "fast_track_decision")
        .only(
            "id",
            "reference",
            "accepted_on",
            "decided_at",
            "withdrawn_at",
            "fast_track_decision",
            "item_version__lead_department_id",
            "item_version__promised_limit_days",
            "item_version__statutory_limit_days",
        )
    )
    if only_open:
        done = Q(decided_at__gte=_since(today)) | Q(withdrawn_at__gte=_since(today))
        query = query.filter(
            (Q(status__in=Application.OPEN_STATUSES) & Q(deadline__lte=today + datetime.timedelta(days=31)))
            | done
            | _carded(Subject.CASE)
        )
    for batch in _chunks(query.order_by("pk")):
        events = _events_by_application(a.pk for a in batch)
        facts = _card_facts(Subject.CASE, [a.pk for a in batch])
        for application in batch:
            own = events.get(application.pk, [])
            promised, statutory = _case_dues(application, own, calendar)
            assert application.accepted_on is not None
            closed = _local_day(application.decided_at or application.withdrawn_at)
            watched = ladder.Watched(
                subject=f"{Subject.CASE}:{application.pk}",
                trigger=ladder.OVERDUE,
                opened_on=application.accepted_on,
                closed_on=closed,
                dues=promised,
                statutory_dues=statutory,
                suspensions=_suspensions(own),
            )
            yield Target(
                _with_card_facts(watched, facts.get((application.pk, ladder.OVERDUE))),
                Subject.CASE,
                application.pk,
                application.reference or f"#{application.pk}",
                "case",
                application_id=application.pk,
                department_id=application.item_version.lead_department_id,
            )


# --- steps -----------------------------------------------------------------------------------------


def _step_dues(
    step: Step,
    events: list[ClockEvent],
    supplement: SupplementNotice | None,
    calendar: clock.WorkingCalendar,
) -> tuple[tuple[tuple[datetime.date, datetime.date], ...], tuple[tuple[datetime.date, datetime.date | None], ...]]:
    """The step's deadline history and the periods it stood still, as the services moved it: the
    window's five working days count from the day the application was complete (art. 32: after the
    answer to a 补正 notice); a review's from its opening, moved later by every excluded period that
    ended while it was open."""
    opened = _local_day(step.opened_at)
    assert opened is not None
    application = step.application
    closed_at = step.closed_at
    if step.kind == Step.Kind.ACCEPT:
        assert application.received_on is not None
        dues = [(opened, _due_after(application.received_on, settings.DEEMED_ACCEPTANCE_DAYS, calendar))]
        stood: list[tuple[datetime.date, datetime.date | None]] = []
        if supplement is not None:
            asked = _local_day(supplement.requested_at)
            answered = _local_day(supplement.answered_at)
            assert asked is not None
            stood.append((asked, answered))
            if answered is not None:
                dues.append((answered, _due_after(answered, settings.DEEMED_ACCEPTANCE_DAYS, calendar)))
        return tuple(dues), tuple(stood)
    due = _due_after(opened, application.item_version.review_limit_days, calendar)
    dues = [(opened, due)]
    for start, end in _suspensions(events):
        if end is None or end < opened:
            continue
        resumed_events = [e for e in events if e.kind == ClockEvent.Kind.RESUMED and e.on == end]
        if closed_at is not None and resumed_events and resumed_events[0].at >= closed_at:
            continue  # the step was done before the clock resumed: nothing moved it
        shift = clock.working_days_between_lenient(start, end, calendar=calendar)
        due = _due_after(due, shift.count, calendar)
        dues.append((end, due))
    periods = tuple((start, end) for start, end in _suspensions(events) if end is None or end >= opened)
    return tuple(dues), periods


def steps(*, today: datetime.date, only_open: bool, calendar: clock.WorkingCalendar) -> Iterator[Target]:
    # a decision step's deadline is the case's own: the case card watches it
    query = (
        Step.objects.filter(kind__in=[Step.Kind.ACCEPT, Step.Kind.REVIEW])
        .select_related("application__item_version")
        .only(
            "id",
            "kind",
            "department_id",
            "opened_at",
            "closed_at",
            "claimed_by_id",
            "application__id",
            "application__reference",
            "application__received_on",
            "application__item_version__review_limit_days",
        )
    )
    if only_open:
        query = query.filter(
            (Q(closed_at__isnull=True) & Q(due_on__lte=today + datetime.timedelta(days=31)))
            | Q(closed_at__gte=_since(today))
            | _carded(Subject.STEP)
        )
    for batch in _chunks(query.order_by("pk")):
        application_ids = {s.application_id for s in batch}
        # a step's deadline moves only with the excluded periods
        events = _events_by_application(application_ids, kinds=(ClockEvent.Kind.SUSPENDED, ClockEvent.Kind.RESUMED))
        supplements = {
            n.application_id: n
            for n in SupplementNotice.objects.filter(
                application_id__in=application_ids, stage=SupplementNotice.Stage.BEFORE_ACCEPTANCE
            )
        }
        facts = _card_facts(Subject.STEP, [s.pk for s in batch])
        kinds = {value: str(label) for value, label in Step.Kind.choices}
        for step in batch:
            dues, stood = _step_dues(
                step, events.get(step.application_id, []), supplements.get(step.application_id), calendar
            )
            trigger = ladder.NOT_ACCEPTED_IN_WINDOW if step.kind == Step.Kind.ACCEPT else ladder.STEP_OVERRUN
            opened = _local_day(step.opened_at)
            assert opened is not None
            watched = ladder.Watched(
                subject=f"{Subject.STEP}:{step.pk}",
                trigger=trigger,
                opened_on=opened,
                closed_on=_local_day(step.closed_at),
                dues=dues,
                suspensions=stood,
            )
            yield Target(
                _with_card_facts(watched, facts.get((step.pk, trigger))),
                Subject.STEP,
                step.pk,
                f"{step.application.reference or step.application_id} · {kinds.get(step.kind, step.kind)}",
                "step",
                application_id=step.application_id,
                department_id=step.department_id,
                handler_id=step.claimed_by_id,
            )


# --- refusals without reasons ------------------------------------------------------------------------


def opinions(*, today: datetime.date, only_open: bool, calendar: clock.WorkingCalendar) -> Iterator[Target]:
    query = ReviewOpinion.objects.filter(deemed_because=ReviewOpinion.DeemedBecause.NO_REASONS).select_related(
        "application"
    )
    if only_open:
        query = query.filter(Q(at__gte=_since(today)) | _carded(Subject.OPINION))
    for batch in _chunks(query.order_by("pk")):
        facts = _card_facts(Subject.OPINION, [o.pk for o in batch])
        for opinion in batch:
            day = _local_day(opinion.at)
            assert day is not None
            watched = ladder.Watched(
                subject=f"{Subject.OPINION}:{opinion.pk}",
                trigger=ladder.REFUSAL_WITHOUT_REASONS,
                opened_on=day,
                closed_on=day,
                irregular_on=day,
            )
            yield Target(
                _with_card_facts(watched, facts.get((opinion.pk, ladder.REFUSAL_WITHOUT_REASONS))),
                Subject.OPINION,
                opinion.pk,
                opinion.application.reference or f"#{opinion.application_id}",
                "opinion",
                application_id=opinion.application_id,
                department_id=opinion.department_id,
                handler_id=opinion.reviewer_id,
            )


# --- fixed deadlines: inspections, rectification reports, credit-office decisions --------------------


def _fixed(
    *,
    subject_type: str,
    rules_key: str,
    rows: Iterable[Any],
    opened: Any,
    closed: Any,
    due: Any,
    label: Any,
    **where: Any,
) -> Iterator[Target]:
    for batch in _chunks(rows):
        facts = _card_facts(subject_type, [r.pk for r in batch])
        for row in batch:
            opened_on = _local_day(opened(row))
            assert opened_on is not None
            watched = ladder.Watched(
                subject=f"{subject_type}:{row.pk}",
                trigger=ladder.OVERDUE,
                opened_on=opened_on,
                closed_on=_local_day(closed(row)),
                dues=((opened_on, due(row)),),
            )
            yield Target(
                _with_card_facts(watched, facts.get((row.pk, ladder.OVERDUE))),
                subject_type,
                row.pk,
                label(row),
                rules_key,
                **{name: value(row) for name, value in where.items()},
            )


def inspections(*, today: datetime.date, only_open: bool, calendar: clock.WorkingCalendar) -> Iterator[Target]:
    rows = InspectionTask.objects.select_related("application", "enterprise").order_by("pk")
    if only_open:
        rows = rows.filter(
            (Q(closed_at__isnull=True) & Q(due_on__lte=today + datetime.timedelta(days=31)))
            | Q(closed_at__gte=_since(today))
            | _carded(Subject.VERIFICATION)
        )
    return _fixed(
        subject_type=Subject.VERIFICATION,
        rules_key="verification",
        rows=rows,
        opened=lambda t: t.opened_at,
        closed=lambda t: t.closed_at,
        due=lambda t: t.due_on,
        label=lambda t: (t.application.reference if t.application_id else None) or t.enterprise.name,
        application_id=lambda t: t.application_id,
        department_id=lambda t: t.department_id,
    )


def rectifications(*, today: datetime.date, only_open: bool, calendar: clock.WorkingCalendar) -> Iterator[Target]:
    """The enterprise's report is due by the deadline; what the ladder supervises is the
    department's re-inspection once reported — before that, the missed deadline is the
    enterprise's (a credit entry, ``rectification_sweep``). So the rung watches the order until it
    is reported or closed, addressed to the inspecting department, which must act on a miss."""
    rows = RectificationOrder.objects.select_related("task__application", "task__enterprise", "issued_by").order_by(
        "pk"
    )
    if only_open:
        rows = rows.filter(
            (
                Q(status__in=[RectificationOrder.Status.OPEN, RectificationOrder.Status.REPORTED])
                & Q(deadline__lte=today + datetime.timedelta(days=31))
            )
            | Q(reported_at__gte=_since(today))
            | Q(closed_at__gte=_since(today))
            | _carded(Subject.RECTIFICATION)
        )
    return _fixed(
        subject_type=Subject.RECTIFICATION,
        rules_key="rectification",
        rows=rows,
        opened=lambda r: datetime.datetime.combine(
            r.issued_by.inspected_on, datetime.time(12), tzinfo=timezone.get_current_timezone()
        ),
        closed=lambda r: r.reported_at or r.closed_at,
        due=lambda r: r.deadline,
        label=lambda r: (r.task.application.reference if r.task.application_id else None) or r.task.enterprise.name,
        application_id=lambda r: r.task.application_id,
        department_id=lambda r: r.task.department_id,
    )


def credit_requests(*, today: datetime.date, only_open: bool, calendar: clock.WorkingCalendar) -> Iterator[Target]:
    from credit.ledger.models import CreditRequest, RequestStatus

    rows = CreditRequest.objects.select_related("enterprise").order_by("pk")
    if only_open:
        rows = rows.filter(
            (Q(status=RequestStatus.PENDING) & Q(due_on__lte=today + datetime.timedelta(days=31)))
            | Q(decided_at__gte=_since(today))
            | _carded(Subject.CREDIT_REQUEST)
        )
    return _fixed(
        subject_type=Subject.CREDIT_REQUEST,
        rules_key="credit_request",
        rows=rows,
        opened=lambda r: r.submitted_at,
        closed=lambda r: r.decided_at,
        due=lambda r: r.due_on,
        label=lambda r: f"{r.get_kind_display()} · {r.enterprise.name}",
        office=lambda r: SupervisionCard.Office.CREDIT_OFFICE,
    )


def policy_reviews(*, today: datetime.date, only_open: bool, calendar: clock.WorkingCalendar) -> Iterator[Target]:
    """The policy office's decision on an eligible policy application, due ``review_due_on``."""
    from credit.policies.models import ApplicationStatus, PolicyApplication

    rows = (
        PolicyApplication.objects.filter(review_due_on__isnull=False)
        .select_related("enterprise", "policy")
        .order_by("pk")
    )
    if only_open:
        rows = rows.filter(
            (Q(status=ApplicationStatus.PENDING_REVIEW) & Q(review_due_on__lte=today + datetime.timedelta(days=31)))
            | Q(decided_at__gte=_since(today))
            | _carded(Subject.POLICY_REVIEW)
        )
    return _fixed(
        subject_type=Subject.POLICY_REVIEW,
        rules_key="policy_review",
        rows=rows,
        opened=lambda r: r.submitted_at,
        closed=lambda r: r.decided_at,
        due=lambda r: r.review_due_on,
        label=lambda r: f"{r.policy.code} · {r.enterprise.name}"[:80],
        office=lambda r: SupervisionCard.Office.POLICY_OFFICE,
    )


def rating_loops(*, today: datetime.date, only_open: bool, calendar: clock.WorkingCalendar) -> Iterator[Target]:
    """好差评: the department calls the applicant back within 1 working day of a bad rating, and
    rectifies and replies within 15 (``approvals.ratings``); both deadlines on the ladder."""
    from approvals.ratings.models import RatingLoop

    rows = RatingLoop.objects.select_related("application").order_by("pk")
    if only_open:
        rows = rows.filter(
            (Q(status__in=RatingLoop.OPEN_STATUSES) & Q(callback_due_on__lte=today + datetime.timedelta(days=31)))
            | Q(replied_at__gte=_since(today))
            | Q(callback_recorded_at__gte=_since(today))
            | _carded(Subject.RATING_CALLBACK)
            | _carded(Subject.RATING_RECTIFICATION)
        )
    loops = list(rows)
    common = {
        "application_id": lambda loop: loop.application_id,
        "department_id": lambda loop: loop.department_id,
        "handler_id": lambda loop: loop.handler_id,
    }
    yield from _fixed(
        subject_type=Subject.RATING_CALLBACK,
        rules_key="rating_callback",
        rows=_Rows(loops),
        opened=lambda loop: loop.opened_at,
        closed=lambda loop: loop.callback_recorded_at,
        due=lambda loop: loop.callback_due_on,
        label=lambda loop: loop.application.reference or f"#{loop.application_id}",
        **common,
    )
    yield from _fixed(
        subject_type=Subject.RATING_RECTIFICATION,
        rules_key="rating_rectification",
        rows=_Rows(loops),
        opened=lambda loop: loop.opened_at,
        closed=lambda loop: loop.replied_at,
        due=lambda loop: loop.rectify_due_on,
        label=lambda loop: loop.application.reference or f"#{loop.application_id}",
        **common,
    )


class _Rows(list):  # type: ignore[type-arg]
    """A list read by ``_chunks`` like a queryset (rows already fetched)."""

    def iterator(self, chunk_size: int = BATCH) -> Iterator[Any]:
        return iter(self)


SOURCES = (cases, steps, opinions, inspections, rectifications, credit_requests, policy_reviews, rating_loops)


def targets(*, today: datetime.date, only_open: bool, calendar: clock.WorkingCalendar) -> Iterator[Target]:
    for source in SOURCES:
        yield from source(today=today, only_open=only_open, calendar=calendar)
