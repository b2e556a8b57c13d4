"""Integrity supervision (廉政监管) against the database: the facts gathered from real cases, the
scan storing each finding once, the supervisor's disposition, and the screens (who sees what,
bad input, query counts)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals.applications import services as application_services
from approvals.models import InspectorConflict, IntegrityAlert
from approvals.organisation import services as org_services
from approvals.organisation.roles import StaffRole
from approvals.supervision import integrity
from approvals.supervision import integrity_selectors as selectors
from approvals.supervision import integrity_services as services
from core.models import AuditEvent
from core.outbox.models import OutboxMessage
from tests import factories
from tests.approvals.integrity_helpers import PERIOD, alert_make, at, decided_case
from tests.workflows.conftest import accept, claim_and, file_application, make_item, only_task, review_all
from workflows.actions import applications as actions

pytestmark = pytest.mark.django_db

Status = IntegrityAlert.Status


@pytest.fixture
def supervisor():  # type: ignore[no-untyped-def]
    return factories.staff_with_role(StaffRole.SUPERVISOR)


@pytest.fixture
def thresholds(settings):  # type: ignore[no-untyped-def]
    settings.INTEGRITY_SAME_ENTERPRISE_MAX = 2
    settings.INTEGRITY_PERIOD_MONTHS = 1
    return settings


# --- the selector ----------------------------------------------------------------------------------


def test_facts_come_from_the_history_with_working_days_net_of_clock_stops(bureau, owner, enterprise):
    # Given a case accepted Mon 14 Sep, suspended Tue 15 → resumed Fri 18 (3 working days), decided
    # Tue 22 Sep at 19:00 after an objection with reasons
    version = make_item(bureau, co_review=1)
    with time_machine.travel(at(14, 9), tick=False):
        application = file_application(owner, enterprise, version)
        accept(bureau, application)
    with time_machine.travel(at(15), tick=False):
        application_services.application_suspend(
            actor=bureau.decider,
            application=application,
            department=bureau.lead,
            reason="expert_review",
            expected_days=3,
            comment="专家评审",
        )
    with time_machine.travel(at(18), tick=False):
        application_services.application_resume(actor=bureau.decider, application=application, department=bureau.lead)
    with time_machine.travel(at(21), tick=False):
        review_all(bureau, application, outcome="disagree", reasons="消防通道宽度不足")
    with time_machine.travel(at(22, 19), tick=False):
        task = claim_and(bureau.decider, only_task(application, "decide"))
        actions.decide_complete(
            actor=bureau.decider, task=task, outcome="approved", override_justification="已落实整改承诺"
        )
    # When the facts of September are gathered
    facts = selectors.integrity_facts(period=PERIOD)
    # Then the decision carries its decider, enterprise, item, department and net working days:
    # 14 → 22 Sep is 7 working days (15, 16, 17, 18, Sun 20 worked, 21, 22), less 3 stood still
    # (16, 17, 18)
    [decision] = facts.decisions
    assert (decision.application_id, decision.decider_id, decision.enterprise_id) == (
        application.pk,
        bureau.decider.pk,
        enterprise.pk,
    )
    assert (decision.item_id, decision.department_id, decision.outcome) == (version.item_id, bureau.lead.pk, "approved")
    assert decision.working_days == 4 and decision.decided_at.hour == 19
    assert decision.override_justification == "已落实整改承诺"
    [opinion] = facts.opinions
    assert (opinion.outcome, opinion.reasons) == ("disagree", "消防通道宽度不足")
    kinds = {(act.action, act.kind) for act in facts.acts if act.actor_id == bureau.decider.pk}
    assert ("clock_suspended", integrity.SUSPENSION) in kinds and ("decided", integrity.HANDLING) in kinds
    # And the rules find the approval over the objection and the decision after office hours
    found = {f.rule for f in integrity.findings_all(facts, selectors.integrity_thresholds())}
    assert found == {integrity.APPROVAL_OVER_OBJECTION, integrity.DECISION_OUTSIDE_HOURS}


def test_facts_take_a_fixed_number_of_queries(bureau, owner, enterprise, administrator):
    version = make_item(bureau, co_review=0)
    decided_case(bureau, owner, enterprise, version, filed=at(7), decided=at(8))
    InspectorConflict.objects.create(
        inspector=bureau.decider, enterprise=enterprise, reason="亲属关系", recorded_by=administrator
    )
    selectors.integrity_facts(period=PERIOD)  # the calendar is loaded and kept
    with CaptureQueriesContext(connection) as few:
        selectors.integrity_facts(period=PERIOD)
    for day in (9, 10, 11):
        decided_case(bureau, owner, enterprise, version, filed=at(day), decided=at(day, 11))
    with CaptureQueriesContext(connection) as many:
        facts = selectors.integrity_facts(period=PERIOD)
    assert len(facts.decisions) == 4 and len(facts.conflicts) == 1
    assert len(many.captured_queries) == len(few.captured_queries)


def test_hand_entered_campaign_recusals_count_as_conflicts_but_automatic_ones_do_not(bureau, owner, enterprise):
    from approvals.models import Campaign, CampaignRecusal

    campaign = Campaign.objects.create(
        code="SC-2026-09",
        name="抽查",
        department=bureau.lead,
        inspection_due_on=datetime.date(2026, 12, 1),
        created_by=bureau.decider,
    )
    CampaignRecusal.objects.create(
        campaign=campaign, uscc=enterprise.uscc, username=bureau.decider.username, reason="曾任顾问"
    )
    CampaignRecusal.objects.create(
        campaign=campaign, uscc=enterprise.uscc, username=bureau.desk_user.username, reason="accepted:SP2026-000001"
    )
    Campaign.objects.filter(pk=campaign.pk).update(status="frozen", frozen_at=at(1), targets_sha256="x" * 64)
    conflicts = selectors.integrity_facts(period=PERIOD).conflicts
    assert [(c.person_id, c.source, c.source_reference) for c in conflicts] == [
        (bureau.decider.pk, integrity.CAMPAIGN_RECUSAL, "SC-2026-09")
    ]


# --- the scan --------------------------------------------------------------------------------------


def _three_for_one_enterprise(bureau, owner, enterprise):  # type: ignore[no-untyped-def]
    version = make_item(bureau, co_review=0)
    return [
        decided_case(bureau, owner, enterprise, version, filed=at(day), decided=at(day, hour))
        for day, hour in ((14, 10), (15, 11), (16, 21))
    ]


def test_scan_raises_each_finding_once_and_tells_the_supervisors(bureau, owner, enterprise, supervisor, thresholds):
    # Given three decisions by one person on one enterprise's cases in September (K = 2), the
    # last at 21:00
    cases = _three_for_one_enterprise(bureau, owner, enterprise)
    # When the scan runs
    raised = services.integrity_scan(period=PERIOD)
    # Then two alerts: the same decider (with the three cases) and the decision after hours
    assert sorted(a.rule for a in raised) == [integrity.DECISION_OUTSIDE_HOURS, integrity.SAME_DECIDER_ENTERPRISE]
    same = IntegrityAlert.objects.get(rule=integrity.SAME_DECIDER_ENTERPRISE)
    assert same.person_id == bureau.decider.pk and same.department_id == bureau.lead.pk
    assert set(same.applications.values_list("pk", flat=True)) == {c.pk for c in cases}
    assert same.evidence["count"] == 3 and same.status == Status.OPEN
    assert (same.period_start, same.period_end) == (PERIOD.start, PERIOD.end)
    assert AuditEvent.objects.filter(action="integrity_alert.raised").count() == 2
    # the supervisor is told of each, the person concerned of none
    assert OutboxMessage.objects.filter(kind="integrity.alert_raised", recipient=supervisor).count() == 2
    assert not OutboxMessage.objects.filter(kind="integrity.alert_raised", recipient=bureau.decider).exists()
    # When it runs again: nothing new
    assert services.integrity_scan(period=PERIOD) == []
    assert IntegrityAlert.objects.count() == 2
    assert AuditEvent.objects.filter(action="integrity_alert.raised").count() == 2


def test_a_supervisor_concerned_is_not_told_of_their_own_alert(bureau, owner, enterprise, thresholds):
    org_services.staff_role_grant(actor=None, user=bureau.decider, role=StaffRole.SUPERVISOR)
    _three_for_one_enterprise(bureau, owner, enterprise)
    services.integrity_scan(period=PERIOD)
    assert IntegrityAlert.objects.filter(person=bureau.decider).count() == 2
    assert not OutboxMessage.objects.filter(kind="integrity.alert_raised", recipient=bureau.decider).exists()


def test_the_scan_of_another_period_finds_nothing_there(bureau, owner, enterprise, thresholds):
    _three_for_one_enterprise(bureau, owner, enterprise)
    october = integrity.Period(datetime.date(2026, 10, 1), datetime.date(2026, 11, 1))
    assert services.integrity_scan(period=october) == []


def test_the_beat_job_scans_the_previous_and_the_current_period(bureau, owner, enterprise, thresholds):
    from approvals import tasks

    _three_for_one_enterprise(bureau, owner, enterprise)
    with time_machine.travel(at(2, 10, month=10), tick=False):
        assert [p.key for p in selectors.integrity_periods_recent()] == [PERIOD.key, "2026-10-01/2026-11-01"]
        assert tasks.integrity_scan() == 2
        assert tasks.integrity_scan() is None  # a second beat's run within the period is skipped
    assert IntegrityAlert.objects.count() == 2


# --- the disposition -------------------------------------------------------------------------------


def test_a_supervisor_dismisses_with_reasons_once(bureau, supervisor):
    alert = alert_make(bureau.decider, department=bureau.lead)
    services.integrity_alert_dispose(actor=supervisor, alert=alert, outcome="dismissed", reasons="系统维护期间补录")
    alert.refresh_from_db()
    assert (alert.status, alert.disposed_by_id, alert.disposition_reasons) == (
        Status.DISMISSED,
        supervisor.pk,
        "系统维护期间补录",
    )
    assert alert.disposed_at is not None
    event = AuditEvent.objects.get(action="integrity_alert.dismissed")
    assert (event.actor_id, event.object_id) == (supervisor.pk, str(alert.pk))
    # a disposition is never changed
    with pytest.raises(services.IntegrityAlertError) as refused:
        services.integrity_alert_dispose(actor=supervisor, alert=alert, outcome="referred", reasons="改为移送")
    assert refused.value.code == "alert_already_disposed"
    alert.refresh_from_db()
    assert alert.status == Status.DISMISSED


def test_a_referral_tells_the_auditors(bureau, supervisor, auditor):
    alert = alert_make(bureau.decider, department=bureau.lead)
    services.integrity_alert_dispose(actor=supervisor, alert=alert, outcome="referred", reasons="多次夜间审批同一企业")
    assert IntegrityAlert.objects.get(pk=alert.pk).status == Status.REFERRED
    assert OutboxMessage.objects.filter(kind="integrity.alert_referred", recipient=auditor).count() == 1


@pytest.mark.parametrize(
    ("who", "outcome", "reasons", "code"),
    [
        ("auditor", "dismissed", "理由", "permission_denied"),
        ("desk", "dismissed", "理由", "permission_denied"),
        ("concerned", "dismissed", "理由", "not_found"),
        ("supervisor", "approved", "理由", "outcome_invalid"),
        ("supervisor", "open", "理由", "outcome_invalid"),
        ("supervisor", "dismissed", "   ", "reasons_required"),
        ("supervisor", "dismissed", "长" * 4001, "reasons_too_long"),
    ],
)
def test_a_disposition_is_refused_and_writes_nothing(bureau, supervisor, auditor, who, outcome, reasons, code):
    concerned = bureau.decider
    org_services.staff_role_grant(actor=None, user=concerned, role=StaffRole.SUPERVISOR)
    actor = {"auditor": auditor, "desk": bureau.desk_user, "concerned": concerned, "supervisor": supervisor}[who]
    alert = alert_make(concerned, department=bureau.lead)
    with pytest.raises(services.IntegrityAlertError) as refused:
        services.integrity_alert_dispose(actor=actor, alert=alert, outcome=outcome, reasons=reasons)
    assert refused.value.code == code
    assert IntegrityAlert.objects.get(pk=alert.pk).status == Status.OPEN
    assert not AuditEvent.objects.filter(action__startswith="integrity_alert.").exists()


def test_the_database_refuses_a_disposition_by_the_person_concerned(bureau):
    from django.db import IntegrityError, transaction

    alert = alert_make(bureau.decider)
    with pytest.raises(IntegrityError), transaction.atomic():
        IntegrityAlert.objects.filter(pk=alert.pk).update(
            status="dismissed", disposed_by=bureau.decider, disposed_at=at(20), disposition_reasons="自查无问题"
        )


# --- the screens ---------------------------------------------------------------------------------


def _client(client, user):  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client


def test_the_queue_and_the_alert_page_answer_supervisors_and_auditors_only(client, bureau, supervisor, auditor, owner):
    alert = alert_make(bureau.decider, department=bureau.lead)
    pages = [reverse("integrity:list"), reverse("integrity:alert", args=[alert.pk])]
    for user in (supervisor, auditor):
        _client(client, user)
        for url in pages:
            assert client.get(url).status_code == 200
    for user in (bureau.desk_user, bureau.reviewers[bureau.co[0].pk], owner):
        _client(client, user)
        for url in pages:
            assert client.get(url).status_code == 404
    client.logout()
    assert client.get(pages[0]).status_code == 302  # to the log-in page


def test_the_person_concerned_never_sees_their_alert_even_as_a_supervisor(client, bureau):
    org_services.staff_role_grant(actor=None, user=bureau.decider, role=StaffRole.SUPERVISOR)
    mine = alert_make(bureau.decider)
    other = alert_make(bureau.desk_user)
    _client(client, bureau.decider)
    assert client.get(reverse("integrity:alert", args=[mine.pk])).status_code == 404
    assert (
        client.post(reverse("integrity:dispose", args=[mine.pk]), {"outcome": "dismissed", "reasons": "无"}).status_code
        == 404
    )
    listing = client.get(reverse("integrity:list"))
    assert [a.pk for a, _title in listing.context["rows"]] == [other.pk]
    assert IntegrityAlert.objects.get(pk=mine.pk).status == Status.OPEN


def test_every_auditor_read_is_recorded(client, bureau, auditor):
    alert = alert_make(bureau.decider)
    _client(client, auditor)
    client.get(reverse("integrity:list"), {"status": "open"})
    client.get(reverse("integrity:alert", args=[alert.pk]))
    reads = AuditEvent.objects.filter(action="auditor.read", actor=auditor, object_type="approvals.integrityalert")
    assert sorted(reads.values_list("object_id", flat=True)) == sorted(["*", str(alert.pk)])


def test_an_auditor_cannot_dispose(client, bureau, auditor):
    alert = alert_make(bureau.decider)
    _client(client, auditor)
    page = client.get(reverse("integrity:alert", args=[alert.pk]))
    assert page.context["form"] is None
    answer = client.post(reverse("integrity:dispose", args=[alert.pk]), {"outcome": "dismissed", "reasons": "无"})
    assert answer.status_code == 404
    assert IntegrityAlert.objects.get(pk=alert.pk).status == Status.OPEN


def test_a_supervisor_disposes_through_the_form(client, bureau, supervisor):
    alert = alert_make(bureau.decider)
    _client(client, supervisor)
    answer = client.post(reverse("integrity:dispose", args=[alert.pk]), {"outcome": "referred", "reasons": "移送纪检"})
    assert answer.status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.disposed_by_id) == (Status.REFERRED, supervisor.pk)
    # the page shows the disposition; a second post changes nothing
    assert client.get(reverse("integrity:alert", args=[alert.pk])).context["form"] is None
    client.post(reverse("integrity:dispose", args=[alert.pk]), {"outcome": "dismissed", "reasons": "改判"})
    alert.refresh_from_db()
    assert (alert.status, alert.disposition_reasons) == (Status.REFERRED, "移送纪检")


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"outcome": "dismissed"},
        {"outcome": "dismissed", "reasons": "   "},
        {"outcome": "open", "reasons": "理由"},
        {"outcome": "approved", "reasons": "理由"},
        {"outcome": "dismissed", "reasons": "长" * 4001},
    ],
)
def test_bad_disposition_input_is_a_form_error_and_writes_nothing(client, bureau, supervisor, data):
    alert = alert_make(bureau.decider)
    _client(client, supervisor)
    answer = client.post(reverse("integrity:dispose", args=[alert.pk]), data)
    assert answer.status_code == 400
    assert answer.context["form"].errors
    assert IntegrityAlert.objects.get(pk=alert.pk).status == Status.OPEN
    assert not AuditEvent.objects.filter(action__startswith="integrity_alert.").exists()


def test_unknown_alerts_and_bad_filters(client, bureau, supervisor):
    _client(client, supervisor)
    assert client.get(reverse("integrity:alert", args=[999999])).status_code == 404
    assert client.get(reverse("integrity:list"), {"rule": "no_such_rule"}).status_code == 400
    assert client.get(reverse("integrity:list"), {"department": "abc"}).status_code == 400
    assert client.get(reverse("integrity:list"), {"page": "x"}).status_code == 200


def test_the_queue_filters_and_puts_open_alerts_first_newest_first(client, bureau, supervisor):
    older = alert_make(bureau.decider, department=bureau.lead)
    disposed = alert_make(bureau.decider, department=bureau.lead, rule=integrity.SAME_DECIDER_ENTERPRISE)
    newer = alert_make(bureau.desk_user, department=bureau.desk)
    services.integrity_alert_dispose(actor=supervisor, alert=disposed, outcome="dismissed", reasons="正常")
    _client(client, supervisor)

    def listed(**query: str) -> list[int]:
        return [a.pk for a, _title in client.get(reverse("integrity:list"), query).context["rows"]]

    assert listed() == [newer.pk, older.pk, disposed.pk]
    assert listed(status="open") == [newer.pk, older.pk]
    assert listed(rule=integrity.SAME_DECIDER_ENTERPRISE) == [disposed.pk]
    assert listed(department=str(bureau.desk.pk)) == [newer.pk]


def test_the_queue_takes_a_fixed_number_of_queries(client, bureau, supervisor, django_assert_max_num_queries):
    _client(client, supervisor)
    for _ in range(2):
        alert_make(bureau.decider, department=bureau.lead)
    client.get(reverse("integrity:list"))
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("integrity:list")).status_code == 200
    for _ in range(12):
        alert_make(bureau.desk_user, department=bureau.desk)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("integrity:list")).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("integrity:list"), {"status": "open"})


def test_the_alert_page_links_the_cases_and_shows_the_comparison(
    client, bureau, owner, enterprise, supervisor, thresholds
):
    cases = _three_for_one_enterprise(bureau, owner, enterprise)
    services.integrity_scan(period=PERIOD)
    alert = IntegrityAlert.objects.get(rule=integrity.SAME_DECIDER_ENTERPRISE)
    _client(client, supervisor)
    page = client.get(reverse("integrity:alert", args=[alert.pk]))
    assert page.status_code == 200
    view = page.context["view"]
    assert [line.id for line in view.cases] == [c.pk for c in cases]
    assert view.figures[1][1] == 3  # the count, after the enterprise
    for case in cases:
        assert reverse("workbench:application", args=[case.pk]).encode() in page.content
    assert b"same_decider_enterprise" not in page.content  # no raw code on the page


def test_the_supervision_page_and_the_navigation_link_the_queue(client, supervisor):
    _client(client, supervisor)
    page = client.get(reverse("workbench:supervision"))
    assert reverse("integrity:list").encode() in page.content
    assert any(item["key"] == "integrity" for item in page.context["nav_items"])
