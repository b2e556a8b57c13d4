"""Writes of integrity supervision (廉政监管): the scan that stores the rules' findings as alerts,
each exactly once, and a supervisor's disposition of an alert, once.

The scan: every finding of ``approvals.supervision.integrity.findings_all`` for the period becomes
an ``IntegrityAlert`` unless one with its dedupe key (rule + person + subject + period) exists. The
findings are stored in dedupe-key order, each in a savepoint: a concurrent scan that inserted the
same key first makes this one wait on the unique index until it commits, then skip the key
(``IntegrityError``), so two scans at once raise nothing twice and cannot deadlock. Each alert
raised writes an audit event and tells the supervisors (but not the person concerned) through the
outbox, after commit.

The disposition: a compare-and-swap from ``open`` (one row changes or the alert was disposed of
meanwhile), an audit event, and for a referral a notice to the auditors (审计/纪检).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from approvals import permissions
from approvals.models import Department, IntegrityAlert
from approvals.supervision import integrity
from approvals.supervision import integrity_selectors as selectors
from core.exceptions import DomainError
from core.models import User
from core.outbox.kinds import SITE, STAFF, NoticeKind, notice_kinds_register
from core.outbox.services import notify
from core.services import audit_event_record

Status = IntegrityAlert.Status
REASONS_MAX_LENGTH = 4000


class IntegrityAlertError(DomainError):
    pass


def _labels(context: Mapping[str, Any]) -> dict[str, str]:
    return {"rule": selectors.rule_title(str(context.get("rule_code", "")))}


notice_kinds_register(
    NoticeKind(
        "integrity.alert_raised",
        _("Integrity alert: %(rule)s"),
        _(
            "A new integrity alert concerns %(person)s (%(department)s): %(rule)s. Open the integrity alerts to review it."
        ),
        label=_("A new integrity alert is raised"),
        channels=(SITE,),
        audience=STAFF,
        labels=_labels,
    ),
    NoticeKind(
        "integrity.alert_referred",
        _("Integrity alert referred: %(rule)s"),
        _(
            "%(supervisor)s referred the integrity alert about %(person)s (%(rule)s) to discipline inspection: "
            "%(reasons)s"
        ),
        label=_("An integrity alert is referred to discipline inspection"),
        channels=(SITE,),
        audience=STAFF,
        labels=_labels,
    ),
)


def _context(alert: IntegrityAlert, person: User, department_name: str) -> dict[str, Any]:
    # the texts are rendered in each recipient's language: keep the rule's code, not its title
    return {"rule_code": alert.rule, "person": str(person), "department": department_name or "—", "alert": alert.pk}


def integrity_scan(*, period: integrity.Period, actor: User | None = None) -> list[IntegrityAlert]:
    """Run every rule over ``period`` and store each new finding as an alert; returns the alerts
    raised by this run (none on a re-run). Idempotent; safe to run twice at once.

    Effects: per alert, the row and its applications, an ``integrity_alert.raised`` audit event
    and an in-site notice to every supervisor but the person concerned, after commit."""
    facts = selectors.integrity_facts(period=period)
    findings = integrity.findings_all(facts, selectors.integrity_thresholds())
    if not findings:
        return []
    known = set(
        IntegrityAlert.objects.filter(dedupe_key__in=[f.dedupe_key for f in findings]).values_list(
            "dedupe_key", flat=True
        )
    )
    fresh = [finding for finding in findings if finding.dedupe_key not in known]
    if not fresh:
        return []
    people = {user.pk: user for user in User.objects.filter(pk__in={f.person_id for f in fresh})}
    departments = dict(Department.objects.filter(pk__in={f.department_id for f in fresh}).values_list("pk", "name"))
    recipients = list(selectors.supervisors())
    raised: list[IntegrityAlert] = []
    with transaction.atomic():
        for finding in fresh:
            try:
                with transaction.atomic():
                    alert = IntegrityAlert.objects.create(
                        rule=finding.rule,
                        person_id=finding.person_id,
                        department_id=finding.department_id,
                        subject=finding.subject[:100],
                        period_start=finding.period.start,
                        period_end=finding.period.end,
                        dedupe_key=finding.dedupe_key,
                        evidence=dict(finding.evidence),
                    )
            except IntegrityError:
                continue  # raised meanwhile by a concurrent scan
            alert.applications.set(finding.application_ids)
            audit_event_record(
                actor=actor,
                action="integrity_alert.raised",
                obj=alert,
                data={
                    "rule": alert.rule,
                    "person": alert.person_id,
                    "period": finding.period.key,
                    "dedupe_key": alert.dedupe_key,
                    "applications": list(finding.application_ids),
                },
            )
            context = _context(alert, people[finding.person_id], departments.get(finding.department_id or 0, ""))
            for recipient in recipients:
                if recipient.pk == alert.person_id:
                    continue  # the person concerned never hears of it
                notify(
                    recipient=recipient,
                    kind="integrity.alert_raised",
                    dedupe_key=f"integrity:{alert.pk}:raised:{recipient.pk}",
                    context=context,
                    obj=alert,
                )
            raised.append(alert)
    return raised


def integrity_scan_recent() -> int:
    """The periodic job (``approvals.integrity_scan``): scan the previous and the current period.
    Returns how many alerts were raised."""
    return sum(len(integrity_scan(period=period)) for period in selectors.integrity_periods_recent())


def integrity_alert_dispose(*, actor: User, alert: IntegrityAlert, outcome: str, reasons: str) -> IntegrityAlert:
    """A supervisor disposes of an open alert: ``dismissed`` or ``referred`` (to the discipline
    inspection body), with reasons. Recorded once: a disposed alert cannot be disposed of again.

    Errors: ``permission_denied`` (not a supervisor), ``not_found`` (the alert concerns the actor),
    ``outcome_invalid``, ``reasons_required``, ``reasons_too_long``, ``alert_already_disposed``."""
    if not permissions.user_is_supervisor(user=actor):
        raise IntegrityAlertError("permission_denied", _("Only a supervisor disposes of integrity alerts."))
    if alert.person_id == actor.pk:
        raise IntegrityAlertError("not_found", _("No such alert."))
    if outcome not in IntegrityAlert.DISPOSITIONS:
        raise IntegrityAlertError("outcome_invalid", _("Choose dismiss or refer to discipline inspection."))
    text = (reasons or "").strip()
    if not text:
        raise IntegrityAlertError("reasons_required", _("Give the reasons for the disposition."))
    if len(text) > REASONS_MAX_LENGTH:
        raise IntegrityAlertError(
            "reasons_too_long", _("Reasons are at most %(max)s characters.") % {"max": REASONS_MAX_LENGTH}
        )
    now = timezone.now()
    with transaction.atomic():
        changed = (
            IntegrityAlert.objects.filter(pk=alert.pk, status=Status.OPEN)
            .exclude(person_id=actor.pk)
            .update(status=outcome, disposed_by=actor, disposed_at=now, disposition_reasons=text)
        )
        if changed != 1:
            raise IntegrityAlertError(
                "alert_already_disposed", _("This alert was disposed of already; a disposition is not changed.")
            )
        audit_event_record(
            actor=actor, action=f"integrity_alert.{outcome}", obj=alert, data={"outcome": outcome, "reasons": text}
        )
        if outcome == Status.REFERRED:
            person = User.objects.get(pk=alert.person_id)
            department = (
                Department.objects.filter(pk=alert.department_id).values_list("name", flat=True).first()
                if alert.department_id is not None
                else None
            )
            context = {**_context(alert, person, department or ""), "supervisor": str(actor), "reasons": text[:300]}
            for recipient in selectors.auditors():
                if recipient.pk == alert.person_id:
                    continue
                notify(
                    recipient=recipient,
                    kind="integrity.alert_referred",
                    dedupe_key=f"integrity:{alert.pk}:referred:{recipient.pk}",
                    context=context,
                    obj=alert,
                )
    alert.refresh_from_db()
    return alert
