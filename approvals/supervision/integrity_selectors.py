"""Reads of integrity supervision (廉政监管): the thresholds from the settings, the facts of a
period for the pure rules (``approvals.supervision.integrity``) in a fixed number of queries, who
may read and dispose of alerts, and the supervisor's queue and alert page.

Who sees an alert: supervisors (who dispose of it) and auditors (who read it; every read is
recorded), never the person it concerns, even if that person is a supervisor or an auditor.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case, Count, IntegerField, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals import permissions
from approvals.calendar import clock
from approvals.calendar import selectors as calendar_selectors
from approvals.models import (
    ApplicationEvent,
    CampaignRecusal,
    ClockEvent,
    Decision,
    Department,
    InspectorConflict,
    IntegrityAlert,
    ReviewOpinion,
)
from approvals.organisation.roles import StaffRole, group_name
from approvals.supervision import integrity
from core.models import User
from credit.models import Enterprise

Status = IntegrityAlert.Status

# The history's actions that are work on a case by the person who did them (claiming a step
# included: taking up a case of an enterprise one is recused from is already working on it).
ACT_ACTIONS = (
    "accepted",
    "not_accepted",
    "supplement_requested",
    "step_claimed",
    "opinion_given",
    "opinion_deemed",
    "clock_suspended",
    "clock_resumed",
    # an art. 42 extension is the asking decision maker's act; the head of the bureau only approves it
    "extension_requested",
    "decided",
)
# A campaign freeze adds these recusals itself from the history (``recusals_for``): the people who
# accepted, reviewed or decided the enterprise's cases, and the recorded conflicts (read from
# ``InspectorConflict`` directly). They are consequences of work done, not conflicts of interest.
_AUTOMATIC_RECUSAL_PREFIXES = ("accepted:", "decided:", "reviewed:", "conflict:")


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def integrity_thresholds() -> integrity.Thresholds:
    return integrity.Thresholds(
        same_enterprise_max=settings.INTEGRITY_SAME_ENTERPRISE_MAX,
        fast_share_percent=settings.INTEGRITY_FAST_SHARE_PERCENT,
        fast_min_sample=settings.INTEGRITY_FAST_MIN_SAMPLE,
        peer_factor_percent=settings.INTEGRITY_PEER_FACTOR_PERCENT,
        peer_min_count=settings.INTEGRITY_PEER_MIN_COUNT,
        office_start=datetime.time.fromisoformat(settings.INTEGRITY_OFFICE_START),
        office_end=datetime.time.fromisoformat(settings.INTEGRITY_OFFICE_END),
    )


def integrity_period_of(day: datetime.date) -> integrity.Period:
    return integrity.period_containing(day, months=settings.INTEGRITY_PERIOD_MONTHS)


def integrity_periods_recent(*, today: datetime.date | None = None) -> list[integrity.Period]:
    """The previous and the current period: a scan of the previous one after it ended catches
    what was recorded in its last hours."""
    current = integrity_period_of(today or timezone.localdate())
    return [integrity.period_before(current, months=settings.INTEGRITY_PERIOD_MONTHS), current]


def _moment(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=_zone())


@dataclass
class _ClockRow:
    kind: str
    on: datetime.date
    days: int | None


def _decisions(
    start: datetime.date, end: datetime.date, calendar: clock.WorkingCalendar
) -> list[integrity.DecisionFact]:
    """Decisions by a person from ``start`` to ``end`` (local days), with their working days: two
    queries whatever their number."""
    rows = list(
        Decision.objects.filter(decider__isnull=False, decided_at__gte=_moment(start), decided_at__lt=_moment(end))
        .order_by("decided_at", "pk")
        .values_list(
            "application_id",
            "application__reference",
            "decider_id",
            "application__enterprise_id",
            "application__enterprise__name",
            "application__item_version__item_id",
            "application__item_version__name",
            "application__item_version__lead_department_id",
            "outcome",
            "decided_at",
            "application__accepted_on",
            "override_justification",
        )
    )
    events: dict[int, list[_ClockRow]] = {}
    for application_id, kind, on, days in (
        ClockEvent.objects.filter(application_id__in=[row[0] for row in rows])
        .order_by("application_id", "at", "pk")
        .values_list("application_id", "kind", "on", "days")
    ):
        events.setdefault(application_id, []).append(_ClockRow(kind, on, days))
    zone = _zone()
    facts = []
    for (
        application_id,
        reference,
        decider_id,
        enterprise_id,
        enterprise_name,
        item_id,
        item_name,
        department_id,
        outcome,
        decided_at,
        accepted_on,
        justification,
    ) in rows:
        local = decided_at.astimezone(zone)
        working_days = None
        if accepted_on is not None:
            taken = clock.working_days_between_lenient(accepted_on, local.date(), calendar=calendar).count
            stood = clock.application_deadline(
                events.get(application_id, []), promised_days=0, calendar=calendar
            ).suspended_days
            working_days = max(taken - stood, 0)
        facts.append(
            integrity.DecisionFact(
                application_id=application_id,
                reference=reference or f"#{application_id}",
                decider_id=decider_id,
                enterprise_id=enterprise_id,
                enterprise_name=enterprise_name,
                item_id=item_id,
                item_name=item_name,
                department_id=department_id,
                outcome=outcome,
                decided_at=local,
                working_days=working_days,
                override_justification=justification,
            )
        )
    return facts


def _act_kind(action: str, to_status: str) -> str:
    if action == "clock_suspended":
        return integrity.SUSPENSION
    # After acceptance a supplement request stops the clock; the one before acceptance moves the
    # application to awaiting-supplement and no clock runs yet.
    if action == "supplement_requested" and not to_status:
        return integrity.SUSPENSION
    if action == "extension_requested":
        return integrity.EXTENSION
    return integrity.HANDLING


def _acts(period: integrity.Period) -> list[integrity.ActFact]:
    zone = _zone()
    rows = (
        ApplicationEvent.objects.filter(
            at__gte=_moment(period.start), at__lt=_moment(period.end), actor__isnull=False, action__in=ACT_ACTIONS
        )
        .order_by("at", "pk")
        .values_list(
            "application_id",
            "application__reference",
            "application__enterprise_id",
            "application__enterprise__name",
            "actor_id",
            "department_id",
            "action",
            "to_status",
            "at",
        )
    )
    return [
        integrity.ActFact(
            application_id=application_id,
            reference=reference or f"#{application_id}",
            enterprise_id=enterprise_id,
            enterprise_name=enterprise_name,
            actor_id=actor_id,
            department_id=department_id,
            action=action,
            kind=_act_kind(action, to_status),
            at=at.astimezone(zone),
        )
        for application_id, reference, enterprise_id, enterprise_name, actor_id, department_id, action, to_status, at in rows
    ]


def _conflicts() -> list[integrity.ConflictFact]:
    """Every recorded conflict of interest: the inspector conflicts, and the recusals entered by
    hand in a campaign once it was frozen (four queries)."""
    zone = _zone()
    facts = [
        integrity.ConflictFact(
            person_id=person_id,
            enterprise_id=enterprise_id,
            source=integrity.INSPECTOR_CONFLICT,
            reason=reason,
            recorded_at=recorded_at.astimezone(zone),
        )
        for person_id, enterprise_id, reason, recorded_at in InspectorConflict.objects.order_by("pk").values_list(
            "inspector_id", "enterprise_id", "reason", "recorded_at"
        )
    ]
    recusals = [
        row
        for row in CampaignRecusal.objects.filter(campaign__frozen_at__isnull=False)
        .order_by("pk")
        .values_list("uscc", "username", "reason", "campaign__code", "campaign__frozen_at")
        if not row[2].startswith(_AUTOMATIC_RECUSAL_PREFIXES)
    ]
    if recusals:
        enterprises = dict(Enterprise.objects.filter(uscc__in={row[0] for row in recusals}).values_list("uscc", "pk"))
        people = dict(User.objects.filter(username__in={row[1] for row in recusals}).values_list("username", "pk"))
        for uscc, username, reason, code, frozen_at in recusals:
            if uscc in enterprises and username in people and frozen_at is not None:
                facts.append(
                    integrity.ConflictFact(
                        person_id=people[username],
                        enterprise_id=enterprises[uscc],
                        source=integrity.CAMPAIGN_RECUSAL,
                        reason=reason,
                        recorded_at=frozen_at.astimezone(zone),
                        source_reference=code,
                    )
                )
    return facts


def integrity_facts(*, period: integrity.Period, baseline_months: int | None = None) -> integrity.Facts:
    """The facts the rules need for ``period``, in a fixed number of queries: the decisions of the
    baseline (``INTEGRITY_FAST_BASELINE_MONTHS`` before the period's end, the period included) and
    their clock events, the objections to the period's decisions, the acts on cases in the period,
    the recorded conflicts, and the working-day calendar."""
    months = settings.INTEGRITY_FAST_BASELINE_MONTHS if baseline_months is None else baseline_months
    calendar = calendar_selectors.calendar_load()
    baseline_start = min(integrity.months_before(period.end, months), period.start)
    baseline = _decisions(baseline_start, period.end, calendar)
    decisions = [decision for decision in baseline if period.contains(decision.decided_at.date())]
    opinions = [
        integrity.OpinionFact(application_id, department_id, department_name, outcome, reasons)
        for application_id, department_id, department_name, outcome, reasons in ReviewOpinion.objects.filter(
            application_id__in=[decision.application_id for decision in decisions],
            outcome=ReviewOpinion.Outcome.DISAGREE,
        )
        .order_by("application_id", "department_id")
        .values_list("application_id", "department_id", "department__name", "outcome", "reasons")
    ]
    return integrity.Facts(
        period=period,
        decisions=decisions,
        baseline=baseline,
        opinions=opinions,
        acts=_acts(period),
        conflicts=_conflicts(),
        calendar=calendar,
    )


# --- who ------------------------------------------------------------------------------------------


def _holders_of_role(role: str) -> QuerySet[User]:
    return (
        User.objects.filter(groups__name=group_name(role), is_active=True, kind=User.Kind.STAFF)
        .distinct()
        .order_by("pk")
    )


def supervisors() -> QuerySet[User]:
    """The staff of the supervisor role (e-supervision), who are told of new alerts."""
    return _holders_of_role(StaffRole.SUPERVISOR)


def auditors() -> QuerySet[User]:
    """The auditors (审计/纪检), who are told of referrals."""
    return _holders_of_role(StaffRole.AUDITOR)


def alerts_visible_to(*, user: Any) -> QuerySet[IntegrityAlert]:
    """The alerts ``user`` may read: everything but those about themselves, for a supervisor or an
    auditor; nothing for anyone else."""
    if not permissions.user_may_read_integrity_alerts(user=user):
        return IntegrityAlert.objects.none()
    return IntegrityAlert.objects.exclude(person_id=user.pk)


def alert_get_for(*, user: Any, pk: int) -> IntegrityAlert | None:
    return (
        alerts_visible_to(user=user)
        .select_related("person", "department", "disposed_by")
        .prefetch_related("applications")
        .filter(pk=pk)
        .first()
    )


def alert_queue(
    *, user: Any, rule: str = "", department_id: int | None = None, status: str = ""
) -> QuerySet[IntegrityAlert]:
    """The supervisor's queue: open first, then newest first; filtered by rule, department and
    status. Three queries for a page whatever its length (count, rows, their cases)."""
    alerts = alerts_visible_to(user=user)
    if rule:
        alerts = alerts.filter(rule=rule)
    if department_id is not None:
        alerts = alerts.filter(department_id=department_id)
    if status:
        alerts = alerts.filter(status=status)
    return (
        alerts.annotate(
            open_first=Case(When(status=Status.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
        )
        .select_related("person", "department")
        .prefetch_related("applications")
        .order_by("open_first", "-raised_at", "-pk")
    )


def alert_departments(*, user: Any) -> QuerySet[Department]:
    """The departments of the alerts ``user`` may read (the department filter's choices)."""
    ids = alerts_visible_to(user=user).filter(department__isnull=False).values("department_id")
    return Department.objects.filter(pk__in=ids).order_by("code")


def alert_counts(*, user: Any) -> dict[str, int]:
    """The alerts ``user`` may read, per status (one query)."""
    counts = dict.fromkeys(Status.values, 0)
    for status, number in alerts_visible_to(user=user).order_by().values_list("status").annotate(n=Count("pk")):
        counts[status] = number
    return counts


# --- the page -------------------------------------------------------------------------------------


def rule_title(code: str) -> str:
    rule = integrity.rule_get(code)
    return _(rule.title) if rule is not None else code


def rule_choices() -> list[tuple[str, str]]:
    return [(code, _(rule.title)) for code, rule in integrity.RULES.items()]


def _local(text: Any) -> str:
    """A stored local instant (ISO text) as the page shows it."""
    try:
        moment = datetime.datetime.fromisoformat(str(text))
    except ValueError:
        return str(text)
    return moment.astimezone(_zone()).strftime("%Y-%m-%d %H:%M")


def alert_message(alert: IntegrityAlert) -> str:
    """The rule's message with the alert's evidence, in the reader's language."""
    rule = integrity.rule_get(alert.rule)
    if rule is None:
        return ""
    params: dict[str, Any] = integrity.message_params(alert.evidence)
    if "measure" in params:
        params["measure"] = _(integrity.MEASURES.get(str(params["measure"]), str(params["measure"])))
    if "decided_at" in params:
        params["decided_at"] = _local(params["decided_at"])
    try:
        return _(rule.message) % params
    except (KeyError, TypeError, ValueError):
        return _(rule.title)


def _action_label(code: str) -> str:
    from core.audit import action_label

    known = {
        "accepted": _("Accepted at the window"),
        "not_accepted": _("Not accepted"),
        "supplement_requested": _("Asked for material"),
        "step_claimed": _("Took up the step"),
        "opinion_given": _("Gave an opinion"),
        "opinion_deemed": _("Opinion deemed"),
        "clock_suspended": _("Suspended the clock"),
        "clock_resumed": _("Resumed the clock"),
        "extension_requested": _("Asked for an extension"),
        "decided": _("Decided"),
    }
    return known.get(code) or str(action_label(code))


@dataclass(frozen=True)
class CaseLine:
    """One case of the evidence, as the page lists it (the reference links to the staff case page)."""

    id: int
    reference: str
    when: str
    what: str


def _case_lines(rows: Iterable[Mapping[str, Any]], *, when: str, what: str = "") -> list[CaseLine]:
    outcomes = dict(Decision.Outcome.choices)
    lines = []
    for row in rows:
        value = str(row.get(what, "")) if what else ""
        if what == "action":
            value = _action_label(value)
        elif what == "outcome":
            value = str(outcomes.get(value, value))
        lines.append(
            CaseLine(
                id=int(row["id"]), reference=str(row.get("reference", "")), when=_local(row.get(when, "")), what=value
            )
        )
    return lines


@dataclass(frozen=True)
class AlertView:
    """An alert for a person to read: the rule's title and message, the figures compared, the
    cases, the recorded conflicts and objections (each a list of label/value pairs)."""

    alert: IntegrityAlert
    title: str
    message: str
    figures: list[tuple[str, Any]]
    cases: list[CaseLine]
    details: list[tuple[str, str]]


def alert_view(alert: IntegrityAlert) -> AlertView:
    evidence: Mapping[str, Any] = alert.evidence or {}
    figures: list[tuple[str, Any]] = []
    cases: list[CaseLine] = []
    details: list[tuple[str, str]] = []
    enterprise = evidence.get("enterprise") or {}
    if enterprise:
        figures.append((_("Enterprise"), enterprise.get("name", "")))
    rule = alert.rule
    if rule == integrity.SAME_DECIDER_ENTERPRISE:
        figures += [
            (_("Decisions in the period"), evidence.get("count")),
            (_("Flagged above"), evidence.get("threshold")),
        ]
        cases = _case_lines(evidence.get("cases", []), when="decided_at", what="outcome")
    elif rule == integrity.APPROVAL_OVER_OBJECTION:
        case = evidence.get("case") or {}
        cases = _case_lines([case], when="decided_at") if case else []
        figures.append((_("Departments that disagreed"), evidence.get("count")))
        for objection in evidence.get("objections", []):
            details.append(
                (
                    _("Objection of %(department)s") % {"department": objection.get("department", {}).get("name", "")},
                    str(objection.get("reasons", "")),
                )
            )
        details.append((_("Why it was approved nonetheless"), str(evidence.get("justification") or "—")))
    elif rule == integrity.DECISION_FAR_FASTER:
        case = evidence.get("case") or {}
        cases = _case_lines([case], when="decided_at") if case else []
        figures += [
            (_("Item"), (evidence.get("item") or {}).get("name", "")),
            (_("Working days taken"), evidence.get("working_days")),
            (_("Median of the department for the item"), evidence.get("median")),
            (_("Other decisions in the median"), evidence.get("sample")),
            (_("Flagged below (share of the median)"), f"{evidence.get('limit')} ({evidence.get('share_percent')}%)"),
        ]
    elif rule == integrity.CLOCK_STOPS_ABOVE_PEERS:
        measure = str(evidence.get("measure", ""))
        figures += [
            (_("Measure"), _(integrity.MEASURES.get(measure, measure))),
            (_("Count"), evidence.get("count")),
            (_("Cases handled"), evidence.get("cases_handled")),
            (_("Rate"), f"{evidence.get('rate_percent')}%"),
            (_("Colleagues in the department"), evidence.get("peers")),
            (
                _("Colleagues' rate"),
                f"{evidence.get('peer_rate_percent')}% ({evidence.get('peer_count')} / {evidence.get('peer_cases')})",
            ),
            (_("Flagged above (multiple of the colleagues' rate)"), f"{evidence.get('factor_percent')}%"),
        ]
        cases = _case_lines(evidence.get("acts", []), when="at", what="action")
    elif rule == integrity.RECUSED_PERSON_ACTED:
        figures.append((_("Acts after the conflict was recorded"), evidence.get("count")))
        sources = {
            integrity.INSPECTOR_CONFLICT: _("Recorded conflict of interest"),
            integrity.CAMPAIGN_RECUSAL: _("Recusal in campaign %(code)s"),
        }
        for conflict in evidence.get("conflicts", []):
            label = sources.get(str(conflict.get("source")), str(conflict.get("source")))
            if "%(code)s" in label:
                label = label % {"code": conflict.get("source_reference", "")}
            details.append(
                (
                    label,
                    _("%(reason)s (recorded %(at)s)")
                    % {"reason": conflict.get("reason", ""), "at": _local(conflict.get("recorded_at", ""))},
                )
            )
        cases = _case_lines(evidence.get("acts", []), when="at", what="action")
    elif rule == integrity.DECISION_OUTSIDE_HOURS:
        case = evidence.get("case") or {}
        cases = (
            [CaseLine(int(case["id"]), str(case.get("reference", "")), _local(evidence.get("decided_at")), "")]
            if case
            else []
        )
        figures += [
            (_("Decided at"), _local(evidence.get("decided_at"))),
            (_("Office hours"), f"{evidence.get('office_start')}–{evidence.get('office_end')}"),
            (_("Day off per the calendar"), _("yes") if evidence.get("day_off") else _("no")),
        ]
        if evidence.get("calendar_provisional"):
            details.append((_("Calendar"), _("The calendar does not cover that year: weekdays were assumed.")))
    return AlertView(
        alert=alert,
        title=rule_title(rule),
        message=alert_message(alert),
        figures=figures,
        cases=cases,
        details=details,
    )
