"""The efficiency dashboard (运行监管): close facts stored when a case closes and by the backfill,
the figures against an independent count in plain Python, a constant number of queries, the
screens' scoping, the CSV export, the drill-down and the public monthly ranking."""

from __future__ import annotations

import csv
import datetime
import io
import statistics
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals.applications import close_facts
from approvals.applications import services as application_services
from approvals.calendar import clock, cycle
from approvals.models import (
    Application,
    ClockEvent,
    Decision,
    Rating,
    ReviewOpinion,
    Step,
    SupervisionCard,
    SupplementNotice,
)
from approvals.organisation.roles import StaffRole
from approvals.supervision import dashboard
from core.models import AuditEvent
from tests import factories
from tests.workflows.conftest import accept, claim_and, file_application, make_item, only_task, review_all
from workflows.actions import applications as actions

Status = Application.Status
PERIOD = dashboard.Period(datetime.date(2026, 3, 1), datetime.date(2026, 5, 1))
TODAY = datetime.date(2026, 7, 15)
PLAIN = clock.WorkingCalendar(version=1, years=frozenset({2026}))


# --- the pure close facts -------------------------------------------------------------------------


@dataclass
class Fact:
    kind: str
    on: datetime.date
    days: int | None = None


def test_close_facts_count_working_days_less_suspension_and_judge_both_limits():
    # given: accepted Monday 2 March 2026, suspended Wed 4 → Mon 9 (3 working days: 5, 6, 9),
    # extended 2 days, decided Friday 20 March (14 working days after acceptance)
    events = [
        Fact("accepted", datetime.date(2026, 3, 2)),
        Fact("suspended", datetime.date(2026, 3, 4)),
        Fact("resumed", datetime.date(2026, 3, 9)),
        Fact("extended", datetime.date(2026, 3, 10), 2),
    ]
    # when
    facts = cycle.close_facts(
        events,
        accepted_on=datetime.date(2026, 3, 2),
        closed_on=datetime.date(2026, 3, 20),
        promised_days=8,
        statutory_days=20,
        calendar=PLAIN,
    )
    # then: 14 − 3 = 11 working days; promised due = 2 March + 8 + 3 + 2 = 13 working days = 19 March
    assert facts.working_days == 11
    assert facts.suspended_days == 3
    assert facts.on_time_promised is False
    assert facts.on_time_statutory is True
    assert facts.provisional is False
    # and one day earlier the promise is kept
    kept = cycle.close_facts(
        events,
        accepted_on=datetime.date(2026, 3, 2),
        closed_on=datetime.date(2026, 3, 19),
        promised_days=8,
        statutory_days=20,
        calendar=PLAIN,
    )
    assert kept.on_time_promised is True and kept.working_days == 10


def test_close_facts_of_a_case_never_accepted_have_no_clock():
    facts = cycle.close_facts(
        [], accepted_on=None, closed_on=datetime.date(2026, 3, 3), promised_days=5, statutory_days=20, calendar=PLAIN
    )
    assert (facts.working_days, facts.on_time_promised, facts.on_time_statutory) == (None, None, None)


def test_close_facts_count_an_open_suspension_up_to_the_close_and_mark_uncovered_years_provisional():
    events = [Fact("accepted", datetime.date(2026, 12, 28)), Fact("suspended", datetime.date(2026, 12, 30))]
    facts = cycle.close_facts(
        events,
        accepted_on=datetime.date(2026, 12, 28),
        closed_on=datetime.date(2027, 1, 5),
        promised_days=5,
        statutory_days=20,
        calendar=PLAIN,
    )
    # 29, 30, 31 Dec, 1, 4, 5 Jan = 6 working days taken, of which 31 Dec … 5 Jan (4) suspended
    assert facts.suspended_days == 4
    assert facts.working_days == 2
    assert facts.provisional is True


def test_percentiles_interpolate_as_postgresql():
    counts = {1: 1, 2: 1, 3: 1, 4: 1, 10: 1}
    assert dashboard.weighted_percentile(counts, 0.5) == 3
    assert dashboard.weighted_percentile(counts, 0.9) == pytest.approx(
        statistics.quantiles([1, 2, 3, 4, 10], n=10, method="inclusive")[8]
    )
    assert dashboard.weighted_percentile({7: 1}, 0.9) == 7
    assert dashboard.weighted_percentile({}, 0.5) is None


# --- the close hook and the backfill through the real services -------------------------------------


def _decide(bureau, application, outcome="approved", reasons=""):  # type: ignore[no-untyped-def]
    task = only_task(application, "decide")
    claim_and(bureau.decider, task)
    actions.decide_complete(actor=bureau.decider, task=task, outcome=outcome, reasons=reasons)
    application.refresh_from_db()


FACT_COLUMNS = close_facts.FACT_FIELDS


def _facts_of(application: Application) -> tuple[Any, ...]:
    application.refresh_from_db()
    return tuple(getattr(application, name) for name in FACT_COLUMNS)


def test_closing_a_case_stores_its_close_facts_and_the_backfill_stores_the_same(bureau, owner, enterprise):
    # given: one case decided through the flow after an art. 45 suspension, one refused at the
    # window, one withdrawn after acceptance, and one still open
    version = make_item(bureau, co_review=1)
    decided = file_application(owner, enterprise, version)
    accept(bureau, decided)
    application_services.application_suspend(
        actor=bureau.decider,
        application=decided,
        department=bureau.lead,
        reason="expert_review",
        comment="专家评审",
        expected_days=3,
    )
    application_services.application_resume(actor=bureau.decider, application=decided, department=bureau.lead)
    review_all(bureau, decided)
    _decide(bureau, decided)
    not_accepted = file_application(owner, enterprise, version)
    task = claim_and(bureau.desk_user, only_task(not_accepted, "accept"))
    actions.accept_complete(actor=bureau.desk_user, task=task, decision="not_accept", text="材料不符合法定形式")
    withdrawn = file_application(owner, enterprise, version)
    accept(bureau, withdrawn)
    actions.application_withdraw_and_cancel(actor=owner, application=withdrawn, reason="不再需要")
    still_open = file_application(owner, enterprise, version)
    today = timezone.localdate()
    # then: the hook stored the facts of each closed case, none of the open one
    assert _facts_of(decided)[:5] == (today, 0, True, True, 0)
    not_accepted.refresh_from_db()
    assert not_accepted.status == Status.NOT_ACCEPTED
    assert _facts_of(not_accepted)[:5] == (today, None, None, None, 0)
    assert _facts_of(withdrawn)[:5] == (today, 0, True, True, 0)
    assert _facts_of(still_open) == (None, None, None, None, None, None, False)
    stored = {a.pk: _facts_of(a) for a in (decided, not_accepted, withdrawn, still_open)}
    # when: the facts are erased (as on rows closed before the columns existed) and backfilled twice
    Application.objects.filter(pk__in=stored).update(
        closed_on=None,
        working_days_taken=None,
        on_time_promised=None,
        on_time_statutory=None,
        suspended_working_days=None,
        supplement_requests=None,
    )
    assert dashboard.close_facts_missing_count() == 3
    seen: list[tuple[int, int]] = []
    assert close_facts.close_facts_backfill(batch_size=2, progress=lambda done, total: seen.append((done, total))) == 3
    assert close_facts.close_facts_backfill() == 0
    # then: exactly what the hook stored, with progress per batch and an audit event per batch
    assert {pk: _facts_of(Application.objects.get(pk=pk)) for pk in stored} == stored
    assert seen == [(2, 3), (3, 3)]
    assert AuditEvent.objects.filter(action="efficiency.close_facts_backfilled").count() == 2
    assert dashboard.close_facts_missing_count() == 0


def test_backfill_command_reports_progress_and_refuses_a_bad_batch_size(db):
    from django.core.management import CommandError, call_command

    out = io.StringIO()
    call_command("efficiency_backfill", stdout=out)
    assert "close facts stored: 0" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("efficiency_backfill", "--batch-size", "0")


# --- a bureau with data written directly (fast), its figures against plain Python -------------------


def _moment(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=timezone.get_current_timezone())


@dataclass
class World:
    lead_a: Any
    lead_b: Any
    co: Any
    items: list[Any]
    deciders: dict[int, Any]
    handlers: list[Any]
    owner: Any
    enterprise: Any
    counter: int = 0


@pytest.fixture
def world(bureau, owner, enterprise):  # type: ignore[no-untyped-def]
    lead_b = factories.department("建设工程审批处")
    decider_b = factories.staff_with_role(StaffRole.DECIDER, department=lead_b)
    items = [
        make_item(bureau, co_review=1, code="EA01"),
        make_item(bureau, co_review=1, code="EA02", name="建筑工程施工许可"),
        make_item(bureau, co_review=0, code="EB01", name="排污许可", lead_department=lead_b),
    ]
    return World(
        lead_a=bureau.lead,
        lead_b=lead_b,
        co=bureau.co[0],
        items=items,
        deciders={bureau.lead.pk: bureau.decider, lead_b.pk: decider_b},
        handlers=[bureau.desk_user, bureau.reviewers[bureau.co[0].pk]],
        owner=owner,
        enterprise=enterprise,
    )


def _case(world: World, i: int) -> Application:
    """One case of a deterministic mix: received over March–June 2026 (some before the period),
    accepted (some deemed), suspended, supplemented, decided, refused, withdrawn, not accepted,
    open and overdue, with steps and deemed consents."""
    world.counter += 1
    version = world.items[i % 3]
    received = datetime.date(2026, 2, 20) + datetime.timedelta(days=(i * 5) % 110)
    accepted = received + datetime.timedelta(days=1 + i % 3) if i % 13 != 0 else None
    status = Status.APPROVED if i % 2 else Status.REFUSED
    if accepted is None:
        status = Status.NOT_ACCEPTED
    elif i % 11 == 0:
        status = Status.WITHDRAWN
    elif i % 7 == 0:
        status = Status.IN_REVIEW
    closed = None if status == Status.IN_REVIEW else (accepted or received) + datetime.timedelta(days=2 + (i * 3) % 25)
    application = Application.objects.create(
        enterprise=world.enterprise,
        applicant=world.owner,
        item_version=version,
        idempotency_key=uuid.uuid4(),
        status=status,
        reference=f"SPT-{world.counter:05d}",
        submitted_at=_moment(received),
        received_on=received,
        accepted_on=accepted,
        accepted_at=_moment(accepted) if accepted else None,
        deemed_accepted=accepted is not None and i % 5 == 0,
        decided_at=_moment(closed) if closed and status != Status.WITHDRAWN else None,
        withdrawn_at=_moment(closed) if status == Status.WITHDRAWN else None,
    )
    ClockEvent.objects.create(application=application, kind=ClockEvent.Kind.RECEIVED, on=received)
    if accepted is not None:
        ClockEvent.objects.create(
            application=application, kind=ClockEvent.Kind.ACCEPTED, on=accepted, deemed=application.deemed_accepted
        )
        if i % 4 == 0:
            ClockEvent.objects.create(
                application=application,
                kind=ClockEvent.Kind.SUSPENDED,
                on=accepted + datetime.timedelta(days=1),
                reason=ClockEvent.Reason.EXPERT_REVIEW,
                days=3,
            )
            ClockEvent.objects.create(
                application=application, kind=ClockEvent.Kind.RESUMED, on=accepted + datetime.timedelta(days=4)
            )
        if i % 6 == 0:
            SupplementNotice.objects.create(
                application=application,
                stage=SupplementNotice.Stage.AFTER_ACCEPTANCE,
                department=version.lead_department,
                items=[{"material": None, "name": "补充说明"}],
                message="请补正",
                requested_by=world.handlers[0],
                answered_at=_moment(accepted),
            )
    lead = version.lead_department
    if status in (Status.APPROVED, Status.REFUSED):
        Decision.objects.create(
            application=application,
            outcome=status,
            reasons="" if status == Status.APPROVED else "不符合条件",
            decider=None if i % 9 == 0 else world.deciders[lead.pk],
        )
    if accepted is not None and version.co_review_departments.exists() and i % 3 != 2:
        if i % 4 == 1:
            opinion = ReviewOpinion.objects.create(
                application=application,
                department=world.co,
                outcome=ReviewOpinion.Outcome.DEEMED_CONSENT,
                deemed_because=ReviewOpinion.DeemedBecause.TIMEOUT,
            )
            ReviewOpinion.objects.filter(pk=opinion.pk).update(at=_moment(accepted + datetime.timedelta(days=6)))
        step = Step.objects.create(
            application=application,
            kind=Step.Kind.REVIEW,
            department=world.co,
            claimed_by=world.handlers[1],
            due_on=accepted + datetime.timedelta(days=5),
        )
        Step.objects.filter(pk=step.pk).update(closed_at=_moment(accepted + datetime.timedelta(days=3 + i % 5)))
    if accepted is not None and i % 5 == 1:
        yellow = SupervisionCard.objects.create(
            subject_type="case",
            subject_id=application.pk,
            subject_label=application.reference,
            application=application,
            department=lead if i % 2 else world.co,
            handler=world.handlers[0] if i % 3 else None,
            level="yellow",
            trigger="overdue",
            raised_on=accepted + datetime.timedelta(days=9),
            reply_due_on=accepted + datetime.timedelta(days=12),
            calendar_version=1,
            status="accepted" if i % 4 == 1 else "awaiting_answer",
        )
        if i % 10 == 1:
            SupervisionCard.objects.filter(pk=yellow.pk).update(status="escalated")
            SupervisionCard.objects.create(
                subject_type="case",
                subject_id=application.pk,
                subject_label=application.reference,
                application=application,
                department=yellow.department,
                level="red",
                trigger="overdue",
                raised_on=accepted + datetime.timedelta(days=13),
                reply_due_on=accepted + datetime.timedelta(days=18),
                calendar_version=1,
                yellow=yellow,
                status="awaiting_rectification",
            )
    if status in Application.CLOSED_STATUSES and i % 3 == 0:
        level = 1 + i % 5
        Rating.objects.create(
            application=application,
            item=version.item,
            department=lead,
            rated_by=world.owner,
            rated_on=(closed or received) + datetime.timedelta(days=1),
            level=level,
            efficiency=level,
            guide_accuracy=level,
            convenience=level,
            usability=level,
        )
    if status in Application.CLOSED_STATUSES:
        close_facts.application_close_facts_store(application)
    elif accepted is not None:
        application_services.application_clock_refresh(application)
    return application


def _build(world: World, n: int, start: int = 1) -> list[Application]:
    return [_case(world, i) for i in range(start, start + n)]


def _in(day: datetime.date | None, period: dashboard.Period = PERIOD) -> bool:
    return day is not None and period.first <= day < period.end


def _local_day(moment: datetime.datetime | None) -> datetime.date | None:
    return timezone.localtime(moment).date() if moment else None


def _oracle(
    grouping: str, *, departments: set[int] | None = None, item_id: int | None = None
) -> dict[Any, dict[str, Any]]:
    """The figures, counted row by row in Python from what the database holds."""
    groups: dict[Any, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    days: dict[Any, list[int]] = defaultdict(list)

    def key(application: Application, department_id: int, person: Any, day: datetime.date | None) -> Any:
        return {
            "department": department_id,
            "item": application.item_version.item_id,
            "person": person,
            "month": day.replace(day=1) if day else None,
            "total": "",
        }[grouping]

    def wanted(application: Application, department_id: int) -> bool:
        return (departments is None or department_id in departments) and (
            item_id is None or application.item_version.item_id == item_id
        )

    applications = list(Application.objects.select_related("item_version", "decision"))
    for a in applications:
        lead = a.item_version.lead_department_id
        if not wanted(a, lead):
            continue
        decider = getattr(a, "decision", None)
        if grouping != "person":
            if a.status != Status.DRAFT and _in(a.received_on):
                groups[key(a, lead, None, a.received_on)]["received"] += 1
            if _in(a.accepted_on):
                groups[key(a, lead, None, a.accepted_on)]["accepted"] += 1
                if a.deemed_accepted:
                    groups[key(a, lead, None, a.accepted_on)]["deemed_accepted"] += 1
        if a.status in (Status.APPROVED, Status.REFUSED) and _in(a.closed_on):
            g = groups[key(a, lead, decider.decider_id if decider else None, a.closed_on)]
            g["completed"] += 1
            g["on_time_promised"] += a.on_time_promised is True
            g["on_time_statutory"] += a.on_time_statutory is True
            g["supplemented"] += (a.supplement_requests or 0) > 0
            g["suspended_days"] += a.suspended_working_days or 0
            days[key(a, lead, decider.decider_id if decider else None, a.closed_on)].append(a.working_days_taken)
        if grouping in ("department", "item", "total") and a.status in Application.OPEN_STATUSES and a.accepted_on:
            if a.deadline < TODAY:
                groups[key(a, lead, None, None)]["open_overdue"] += 1
            if a.statutory_deadline < TODAY:
                groups[key(a, lead, None, None)]["open_statutory_overdue"] += 1
    if grouping != "person":
        counted: dict[Any, set[int]] = defaultdict(set)
        for opinion in ReviewOpinion.objects.filter(outcome=ReviewOpinion.Outcome.DEEMED_CONSENT).select_related(
            "application__item_version"
        ):
            day = _local_day(opinion.at)
            if _in(day) and wanted(opinion.application, opinion.department_id):
                counted[key(opinion.application, opinion.department_id, None, day)].add(opinion.application_id)
        for group, cases in counted.items():
            groups[group]["deemed_consent"] = len(cases)
    for step in Step.objects.select_related("application__item_version"):
        day = _local_day(step.closed_at)
        if step.claimed_by_id and _in(day) and wanted(step.application, step.department_id):
            g = groups[key(step.application, step.department_id, step.claimed_by_id, day)]
            g["steps_handled"] += 1
            g["steps_late"] += day > step.due_on
    for card in SupervisionCard.objects.filter(level__in=["yellow", "red"], application__isnull=False).select_related(
        "application__item_version"
    ):
        if _in(card.raised_on) and wanted(card.application, card.department_id):
            g = groups[key(card.application, card.department_id, card.handler_id, card.raised_on)]
            g["cards_raised"] += 1
            g["cards_red"] += card.level == "red"
            g["cards_settled"] += card.status in ("accepted", "closed", "escalated")
    if grouping != "person":
        for rating in Rating.objects.select_related("application__item_version"):
            if _in(rating.rated_on) and wanted(rating.application, rating.department_id):
                g = groups[key(rating.application, rating.department_id, None, rating.rated_on)]
                g["ratings"] += 1
                g["ratings_satisfied"] += rating.level >= 3
                g["ratings_bad"] += rating.level <= 2
    for group, values in days.items():
        ordered = sorted(values)
        groups[group]["median_days"] = round(float(statistics.median(ordered)), 1)
        groups[group]["p90_days"] = round(
            float(statistics.quantiles(ordered, n=10, method="inclusive")[8] if len(ordered) > 1 else ordered[0]), 1
        )
    return groups


COMPARED = (
    "received",
    "accepted",
    "completed",
    "deemed_accepted",
    "deemed_consent",
    "suspended_days",
    "steps_handled",
    "steps_late",
    "open_overdue",
    "open_statutory_overdue",
    "median_days",
    "p90_days",
    "cards_raised",
    "cards_red",
    "cards_settled",
    "ratings",
    "ratings_bad",
)
RATES = {
    "on_time_rate": ("on_time_promised", "completed"),
    "statutory_rate": ("on_time_statutory", "completed"),
    "supplement_rate": ("supplemented", "completed"),
    "satisfaction_rate": ("ratings_satisfied", "ratings"),
}


def _compare(row_values: dict[str, Any], expected: dict[str, Any], groupable: dict[str, bool]) -> None:
    for name in COMPARED:
        if not groupable.get(name, True):
            assert row_values[name] is None, name
            continue
        default = None if name.endswith("_days") and name != "suspended_days" else 0
        assert row_values[name] == expected.get(name, default), name
    for rate, (numerator, denominator) in RATES.items():
        if groupable.get(rate, True):
            value = row_values[rate]
            assert (value.numerator, value.denominator) == (expected.get(numerator, 0), expected.get(denominator, 0))


@pytest.mark.parametrize("grouping", ["department", "item", "person", "month"])
def test_figures_equal_an_independent_count(world, grouping):
    # given
    _build(world, 60)
    # when
    table = dashboard.efficiency_table(scope=dashboard.Scope(), period=PERIOD, grouping=grouping, today=TODAY)
    # then: every row and the total, figure by figure
    expected = _oracle(grouping)
    assert {row.key for row in table.rows} == set(expected)
    for row in table.rows:
        _compare(row.values, expected[row.key], table.groupable)
    _compare(table.total.values, _oracle("total")[""], {})
    assert table.total.values["completed"] > 10  # the data is not trivially empty
    assert table.total.values["deemed_consent"] > 0 and table.total.values["open_overdue"] > 0
    assert table.total.values["cards_red"] > 0 and table.total.values["ratings_bad"] > 0


def test_figures_of_one_department_and_of_one_item(world):
    _build(world, 45)
    scope = dashboard.Scope(department_ids=frozenset({world.lead_b.pk}))
    table = dashboard.efficiency_table(scope=scope, period=PERIOD, grouping="item", today=TODAY)
    expected = _oracle("item", departments={world.lead_b.pk})
    assert {row.key for row in table.rows} == set(expected) == {world.items[2].item_id}
    for row in table.rows:
        _compare(row.values, expected[row.key], table.groupable)
    item = world.items[0].item_id
    table = dashboard.efficiency_table(
        scope=dashboard.Scope(item_id=item), period=PERIOD, grouping="month", today=TODAY
    )
    expected = _oracle("month", item_id=item)
    for row in table.rows:
        _compare(row.values, expected[row.key], table.groupable)


def _queries(grouping: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        dashboard.efficiency_table(scope=dashboard.Scope(), period=PERIOD, grouping=grouping, today=TODAY)
    return len(captured)


@pytest.mark.parametrize("grouping", ["department", "person", "month"])
def test_query_count_does_not_grow_with_the_data(world, grouping):
    _build(world, 8)
    small = _queries(grouping)
    _build(world, 40, start=9)
    assert _queries(grouping) == small
    # the rolled months, then per source one grouped and one total aggregate (a rolled source: its
    # cells and its live rows), the names
    assert small <= 1 + 2 * len(dashboard.SOURCES) + 1


@pytest.mark.postgres_only
def test_percentiles_equal_postgresqls_own_percentile_cont(world):
    # given the cases of the period
    _build(world, 60)
    table = dashboard.efficiency_table(scope=dashboard.Scope(), period=PERIOD, grouping="department", today=TODAY)
    # then each department's median and 90th percentile equal PostgreSQL's percentile_cont over the
    # same cases (computed here in plain SQL, not through the dashboard)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT v.lead_department_id,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY a.working_days_taken),
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY a.working_days_taken)
            FROM approvals_application a JOIN approvals_approvalitemversion v ON v.id = a.item_version_id
            WHERE a.status IN ('approved', 'refused') AND a.closed_on >= %s AND a.closed_on < %s
            GROUP BY v.lead_department_id
            """,
            [PERIOD.first, PERIOD.end],
        )
        expected = {row[0]: (round(row[1], 1), round(row[2], 1)) for row in cursor.fetchall()}
    assert expected
    for row in table.rows:
        if row.key in expected:
            assert (row.values["median_days"], row.values["p90_days"]) == expected[row.key]


def test_drill_down_lists_exactly_the_cases_counted(world):
    _build(world, 50)
    table = dashboard.efficiency_table(scope=dashboard.Scope(), period=PERIOD, grouping="department", today=TODAY)
    every = dashboard.figures_by_key()
    checked = 0
    for row in [*table.rows, table.total]:
        for figure in table.figures:
            value = row.values[figure.key]
            if value is None or figure.unit != dashboard.COUNT or figure.key == "suspended_days":
                continue
            cases = dashboard.figure_cases(
                figure_key=figure.key,
                scope=dashboard.Scope(),
                period=PERIOD,
                grouping=None if row.is_total else "department",
                group=None if row.is_total else row.key,
                today=TODAY,
            )
            ids = list(cases.values_list("pk", flat=True))
            assert len(ids) == len(set(ids))
            if figure.source in ("steps", "cards"):
                continue  # a case may have several steps or cards: the list shows each case once
            assert len(ids) == value, (figure.key, row.label)
            checked += 1
    # a rate lists its denominator's cases; the on-time ones are the numerator
    rate_cases = dashboard.figure_cases(
        figure_key="on_time_rate", scope=dashboard.Scope(), period=PERIOD, grouping=None, group=None, today=TODAY
    )
    total_rate = table.total.values["on_time_rate"]
    assert rate_cases.count() == total_rate.denominator
    assert rate_cases.filter(on_time_promised=True).count() == total_rate.numerator
    assert every["on_time_rate"].drill_figure == "completed"
    assert checked > 10


# --- the screens ---------------------------------------------------------------------------------


def _url(name: str, **params: str) -> str:
    base = {"start": "2026-03", "end": "2026-05"}
    base.update(params)
    from urllib.parse import urlencode

    return reverse(name) + "?" + urlencode(base)


@pytest.fixture
def people(world):  # type: ignore[no-untyped-def]
    return {
        "supervisor": factories.staff_with_role(StaffRole.SUPERVISOR),
        "auditor": factories.staff_with_role(StaffRole.AUDITOR),
        "head_b": world.deciders[world.lead_b.pk],
        "reviewer": world.handlers[1],
        "desk": world.handlers[0],
    }


def test_dashboard_pages_answer_by_role_and_department(client, world, people):
    _build(world, 20)
    for who in ("supervisor", "auditor", "head_b"):
        client.force_login(people[who])
        for name in ("workbench:dashboard", "workbench:dashboard_cases", "workbench:dashboard_export"):
            response = client.get(_url(name, figure="completed"))
            assert response.status_code == 200, (who, name)
    # a department head sees their own department only
    client.force_login(people["head_b"])
    response = client.get(_url("workbench:dashboard"))
    assert {row["row"].key for row in response.context["rows"]} <= {world.lead_b.pk}
    for name in ("workbench:dashboard", "workbench:dashboard_cases", "workbench:dashboard_export"):
        assert client.get(_url(name, department=str(world.lead_a.pk), figure="completed")).status_code == 404
        assert client.get(_url(name, department="999999", figure="completed")).status_code == 404
    # the supervisor may pick any department
    client.force_login(people["supervisor"])
    assert client.get(_url("workbench:dashboard", department=str(world.lead_a.pk))).status_code == 200
    # everyone else: 404 (staff without a decision role, enterprise users); anonymous: to the log-in
    for who in ("reviewer", "desk"):
        client.force_login(people[who])
        assert client.get(_url("workbench:dashboard")).status_code == 404
        assert client.get(_url("workbench:dashboard_export")).status_code == 404
    client.force_login(world.owner)
    assert client.get(_url("workbench:dashboard")).status_code == 404
    client.logout()
    assert client.get(_url("workbench:dashboard")).status_code == 302


def test_auditor_reads_of_the_dashboard_are_recorded(client, world, people):
    _build(world, 10)
    client.force_login(people["auditor"])
    before = AuditEvent.objects.filter(action="auditor.read", actor=people["auditor"]).count()
    client.get(_url("workbench:dashboard"))
    client.get(_url("workbench:dashboard_cases", figure="completed"))
    client.get(_url("workbench:dashboard_export"))
    reads = AuditEvent.objects.filter(action="auditor.read", actor=people["auditor"]).order_by("id")[before:]
    assert [(r.object_type, r.object_id) for r in reads] == [
        ("approvals.efficiency", "*"),
        ("approvals.application", "*"),
        ("approvals.efficiency", "export"),
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-13"},
        {"start": "yesterday"},
        {"start": "2026-05", "end": "2026-03"},
        {"start": "2020-01", "end": "2026-05"},
        {"end": "2999-01"},
        {"grouping": "colour"},
        {"item": "999999"},
    ],
)
def test_bad_filters_get_a_form_error_and_write_nothing(client, world, people, params):
    client.force_login(people["supervisor"])
    before = AuditEvent.objects.count()
    response = client.get(reverse("workbench:dashboard"), params)
    assert response.status_code == 400
    assert response.context["form"].errors
    assert client.get(reverse("workbench:dashboard_export"), params).status_code == 400
    assert client.get(reverse("workbench:dashboard_cases"), {**params, "figure": "completed"}).status_code == 400
    assert AuditEvent.objects.count() == before


def test_drill_down_refuses_an_unknown_figure_or_row(client, world, people):
    client.force_login(people["supervisor"])
    assert client.get(_url("workbench:dashboard_cases", figure="nonsense")).status_code == 404
    assert client.get(_url("workbench:dashboard_cases", figure="completed", group="abc")).status_code == 400
    assert (
        client.get(_url("workbench:dashboard_cases", figure="completed", grouping="month", group="2026-99")).status_code
        == 400
    )
    assert (
        client.get(_url("workbench:dashboard_cases", figure="received", grouping="person", group="5")).status_code
        == 404
    )
    assert client.get(_url("workbench:dashboard_cases", figure="completed", page="zz")).status_code == 200


def test_csv_export_matches_the_table(client, world, people):
    _build(world, 30)
    client.force_login(people["supervisor"])
    for grouping in ("department", "person", "month"):
        page = client.get(_url("workbench:dashboard", grouping=grouping))
        export = client.get(_url("workbench:dashboard_export", grouping=grouping))
        assert export["Content-Type"].startswith("text/csv")
        lines = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
        table = page.context["table"]
        assert lines[0][1:] == [str(f.label) for f in table.figures]
        shown = [[line["row"].label, *(c["text"] for c in line["cells"])] for line in page.context["rows"]]
        shown.append([page.context["total"]["row"].label, *(c["text"] for c in page.context["total"]["cells"])])
        assert lines[1:] == shown


def test_drill_down_page_lists_the_counted_cases_and_links_them(client, world, people):
    _build(world, 30)
    client.force_login(people["supervisor"])
    table = dashboard.efficiency_table(scope=dashboard.Scope(), period=PERIOD, grouping="department", today=TODAY)
    row = next(r for r in table.rows if r.key == world.lead_a.pk)
    response = client.get(
        _url("workbench:dashboard_cases", figure="completed", grouping="department", group=str(world.lead_a.pk))
    )
    listed = list(response.context["page"].object_list)
    assert len(listed) == row.values["completed"]
    assert all(a.item_version.lead_department_id == world.lead_a.pk and _in(a.closed_on) for a in listed)
    assert reverse("workbench:application", args=[listed[0].pk]).encode() in response.content


def test_dashboard_page_query_count_does_not_grow(client, world, people, django_assert_max_num_queries):
    _build(world, 6)
    client.force_login(people["supervisor"])
    with CaptureQueriesContext(connection) as small:
        client.get(_url("workbench:dashboard", grouping="item"))
        client.get(_url("workbench:dashboard_cases", figure="completed"))
    _build(world, 40, start=7)
    with django_assert_max_num_queries(len(small)):
        client.get(_url("workbench:dashboard", grouping="item"))
        client.get(_url("workbench:dashboard_cases", figure="completed"))


def test_dashboard_is_linked_from_supervision_and_the_workbench(client, world, people):
    client.force_login(people["supervisor"])
    url = reverse("workbench:dashboard").encode()
    assert url in client.get(reverse("workbench:supervision")).content
    assert any(item["key"] == "efficiency" for item in client.get(reverse("workbench:home")).context["nav_items"])
    client.force_login(people["head_b"])
    assert url in client.get(reverse("workbench:home")).content
    client.force_login(people["reviewer"])
    assert url not in client.get(reverse("workbench:home")).content


def test_dashboard_warns_of_closed_cases_without_close_facts(client, world, people):
    cases = _build(world, 10)
    closed = [a for a in cases if a.status in Application.CLOSED_STATUSES]
    Application.objects.filter(pk=closed[0].pk).update(
        closed_on=None,
        working_days_taken=None,
        on_time_promised=None,
        on_time_statutory=None,
        suspended_working_days=None,
    )
    client.force_login(people["supervisor"])
    assert client.get(_url("workbench:dashboard")).context["missing_facts"] == 1


# --- the public monthly ranking ----------------------------------------------------------------------


def test_public_ranking_ranks_departments_of_a_published_month_without_personal_data(client, world, people):
    # given: cases of both lead departments; "today" is after the period
    _build(world, 60)
    month = datetime.date(2026, 4, 1)
    table = dashboard.efficiency_table(
        scope=dashboard.Scope(), period=dashboard.Period(month, month), grouping="department", today=TODAY
    )
    # when
    response = client.get(reverse("efficiency_ranking"), {"month": "2026-04"})
    # then
    assert response.status_code == 200
    ranking = [line["row"] for line in response.context["ranking"]]
    expected = sorted(
        (r for r in table.rows if r.values["completed"]),
        key=lambda r: (
            -(r.values["on_time_rate"].percent or 0),
            r.values["median_days"] or 1e9,
            -r.values["completed"],
        ),
    )
    assert [r.department for r in ranking] == [r.label for r in expected]
    assert [r.completed for r in ranking] == [r.values["completed"] for r in expected]
    content = response.content.decode()
    for user in (*world.deciders.values(), *world.handlers, world.owner):
        assert user.username not in content and user.display_name not in content
    assert world.enterprise.name not in content


def test_public_ranking_publishes_only_past_complete_months(client, db):
    today = timezone.localdate()
    assert client.get(reverse("efficiency_ranking")).status_code == 200
    assert client.get(reverse("efficiency_ranking"), {"month": f"{today:%Y-%m}"}).status_code == 404
    assert client.get(reverse("efficiency_ranking"), {"month": "2999-01"}).status_code == 404
    assert client.get(reverse("efficiency_ranking"), {"month": "not-a-month"}).status_code == 400
    assert reverse("efficiency_ranking").encode() in client.get(reverse("home")).content
