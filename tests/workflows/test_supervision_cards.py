"""The warning ladder on real cases: the sweep over frozen days and the real calendar, the cards'
processes (SupervisionCaseFlow), who may act on a card, and the replay."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from approvals.models import CardEvent, Step, SupervisionCard
from approvals.organisation.roles import StaffRole
from approvals.supervision import card_services, ladder
from approvals.supervision.replay import supervision_replay
from approvals.supervision.watch import Target
from tests import factories
from tests.workflows.conftest import accept, file_application, make_item
from workflows.actions import supervision_cards as actions
from workflows.supervision_flows import SupervisionCaseFlow

D = datetime.date


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_current_timezone())


def sweep(day: datetime.date) -> actions.SweepReport:
    with time_machine.travel(at(day, 9), tick=False):
        return actions.supervision_sweep()


def card_set() -> set[tuple[str, str, str, datetime.date, datetime.date | None]]:
    return {
        (card.subject_type, card.level, card.trigger, card.raised_on, card.reply_due_on)
        for card in SupervisionCard.objects.all()
    }


@pytest.fixture
def supervisor(db):  # type: ignore[no-untyped-def]
    return factories.staff_with_role(StaffRole.SUPERVISOR)


@pytest.fixture
def case(bureau, owner, enterprise):  # type: ignore[no-untyped-def]
    """Accepted on Mon 14 Sep 2026: the review (5 working days: 15–18 and Sun 20 Sep, a make-up
    working day) is due Sun 20 Sep; the case's promised limit (10) ends Mon 28 Sep (Fri 25 Sep is
    the Mid-Autumn holiday), the statutory one (20) Fri 16 Oct (the National Day week is not
    counted, Sat 10 Oct is)."""
    version = make_item(bureau, co_review=1)
    with time_machine.travel(at(D(2026, 9, 14)), tick=False):
        application = file_application(owner, enterprise, version)
        accept(bureau, application)
    application.refresh_from_db()
    assert (application.deadline, application.statutory_deadline) == (D(2026, 9, 28), D(2026, 10, 16))
    review = Step.objects.get(application=application, kind=Step.Kind.REVIEW)
    assert review.due_on == D(2026, 9, 20)
    return application


# day swept → the cards that exist after it (subject, level, trigger, raised on, answer due)
LADDER_DAYS = [
    (D(2026, 9, 17), set()),
    # the review has one working day left (Sun 20 Sep): a reminder (steps: 1 day, settings)
    (D(2026, 9, 18), {("step", "reminder", "approaching", D(2026, 9, 18), None)}),
    # Mon 21 Sep: the review is overdue — yellow, its answer due 22, 23, 24 Sep
    (
        D(2026, 9, 21),
        {
            ("step", "reminder", "approaching", D(2026, 9, 18), None),
            ("step", "yellow", "step_overrun", D(2026, 9, 21), D(2026, 9, 24)),
        },
    ),
    # Wed 23 Sep: the case has two working days left (24, 28 Sep)
    (
        D(2026, 9, 23),
        {
            ("step", "reminder", "approaching", D(2026, 9, 18), None),
            ("step", "yellow", "step_overrun", D(2026, 9, 21), D(2026, 9, 24)),
            ("case", "reminder", "approaching", D(2026, 9, 23), None),
        },
    ),
    # Fri 25 Sep (a holiday): no answer by the 24th — red, rectification due 28, 29, 30 Sep, 8, 9 Oct
    (
        D(2026, 9, 25),
        {
            ("step", "reminder", "approaching", D(2026, 9, 18), None),
            ("step", "yellow", "step_overrun", D(2026, 9, 21), D(2026, 9, 24)),
            ("step", "red", "step_overrun", D(2026, 9, 25), D(2026, 10, 9)),
            ("case", "reminder", "approaching", D(2026, 9, 23), None),
        },
    ),
    # Tue 29 Sep: the case is past its promised limit
    (
        D(2026, 9, 29),
        {
            ("step", "reminder", "approaching", D(2026, 9, 18), None),
            ("step", "yellow", "step_overrun", D(2026, 9, 21), D(2026, 9, 24)),
            ("step", "red", "step_overrun", D(2026, 9, 25), D(2026, 10, 9)),
            ("case", "reminder", "approaching", D(2026, 9, 23), None),
            ("case", "yellow", "overdue", D(2026, 9, 29), D(2026, 10, 9)),
        },
    ),
]


def test_which_cards_exist_on_which_day(case):
    for day, expected in LADDER_DAYS:
        sweep(day)
        assert card_set() == expected, day
    # a second run the same day raises nothing more
    assert sum(sweep(D(2026, 9, 29)).raised.values()) == 0
    assert list(supervision_replay(today=D(2026, 9, 29))) == []


def test_a_sweep_that_ran_late_raises_the_same_cards_on_their_own_days(case):
    sweep(D(2026, 9, 29))
    assert card_set() == LADDER_DAYS[-1][1]


def test_a_card_is_raised_once_even_when_inserted_twice(case, supervisor):
    sweep(D(2026, 9, 21))
    yellow = SupervisionCard.objects.get(level="yellow")
    with pytest.raises(IntegrityError), transaction.atomic():
        SupervisionCard.objects.create(
            subject_type=yellow.subject_type,
            subject_id=yellow.subject_id,
            subject_label="x",
            department=yellow.department,
            level="yellow",
            trigger=yellow.trigger,
            raised_on=yellow.raised_on,
            reply_due_on=yellow.reply_due_on,
            calendar_version=1,
            status="awaiting_answer",
        )


def test_a_red_card_cannot_exist_without_its_yellow(case):
    target = Target(
        ladder.Watched(subject="step:1", trigger="step_overrun", opened_on=D(2026, 9, 1)),
        "step",
        1,
        "x",
        "step",
        department_id=case.item_version.lead_department_id,
    )
    rung = ladder.Rung("step:1", "red", "step_overrun", D(2026, 9, 25), None, D(2026, 10, 9))
    with pytest.raises(card_services.CardError) as refused:
        card_services.card_raise(target=target, rung=rung, calendar_version=1)
    assert refused.value.code == "yellow_missing"
    with pytest.raises(IntegrityError), transaction.atomic():
        SupervisionCard.objects.create(
            subject_type="step",
            subject_id=1,
            subject_label="x",
            department_id=case.item_version.lead_department_id,
            level="red",
            trigger="step_overrun",
            raised_on=D(2026, 9, 25),
            reply_due_on=D(2026, 10, 9),
            calendar_version=1,
            status="awaiting_rectification",
        )


def test_the_yellow_card_is_a_process_answered_and_accepted(case, bureau, supervisor):
    sweep(D(2026, 9, 21))
    yellow = SupervisionCard.objects.get(level="yellow")
    assert yellow.notice_number.startswith("DB2026") and yellow.notice_sha256 and yellow.notice_file
    process = Process.objects.get(pk=yellow.process_id)
    assert process.flow_class == SupervisionCaseFlow
    reviewer = next(iter(bureau.reviewers.values()))
    # the department (a reviewer of the addressed department) answers
    with time_machine.travel(at(D(2026, 9, 22)), tick=False):
        actions.card_answer_and_route(actor=reviewer, card=yellow, answer="审查人员病假，已指定他人办理")
    # the department cannot decide its own card
    with pytest.raises(card_services.CardError) as refused:
        actions.card_accept_and_route(actor=reviewer, card=yellow, comment="")
    assert refused.value.code == "permission_denied"
    with time_machine.travel(at(D(2026, 9, 23)), tick=False):
        actions.card_accept_and_route(actor=supervisor, card=yellow, comment="理由成立")
    yellow.refresh_from_db()
    assert yellow.status == "accepted"
    process.refresh_from_db()
    assert process.status == "DONE"
    assert [e.action for e in CardEvent.objects.filter(card=yellow).order_by("at", "id")] == [
        "raised",
        "answered",
        "accepted",
    ]
    # settled before its answer's deadline: no red card later, whatever the step does
    sweep(D(2026, 9, 30))
    assert not SupervisionCard.objects.filter(subject_type="step", level="red").exists()
    assert list(supervision_replay(today=D(2026, 9, 30))) == []


def test_unanswered_yellow_turns_red_and_closes_with_accountability(case, bureau, supervisor):
    sweep(D(2026, 9, 21))
    sweep(D(2026, 9, 25))
    yellow = SupervisionCard.objects.get(subject_type="step", level="yellow")
    red = SupervisionCard.objects.get(subject_type="step", level="red")
    assert (yellow.status, red.yellow_id, red.process_id) == ("escalated", yellow.pk, yellow.process_id)
    assert red.notice_number.startswith("ZG2026")
    tasks = Task.objects.filter(process_id=red.process_id, status=STATUS.NEW)
    assert [t.flow_task.name for t in tasks] == ["rectify"]
    reviewer = next(iter(bureau.reviewers.values()))
    # a supervisor cannot close before the rectification is reported
    with pytest.raises(card_services.CardError) as refused:
        actions.card_close_and_route(actor=supervisor, card=red, accountability="criticism", reasons="逾期")
    assert refused.value.code == "card_state_changed"
    actions.card_rectified_and_route(actor=reviewer, card=red, report="已完成审查并建立AB岗制度")
    # the supervisor who also works in the department may not close its card
    dual = factories.staff_with_role(StaffRole.SUPERVISOR)
    from approvals.organisation import services as org_services

    org_services.staff_role_grant(actor=None, user=dual, role=StaffRole.REVIEWER, department=red.department)
    from core.models import User

    dual = User.objects.get(pk=dual.pk)
    with pytest.raises(card_services.CardError) as own:
        actions.card_close_and_route(actor=dual, card=red, accountability="none", reasons="无")
    assert own.value.code == "own_department"
    with pytest.raises(card_services.CardError) as empty:
        actions.card_close_and_route(actor=supervisor, card=red, accountability="criticism", reasons="  ")
    assert empty.value.code == "reason_required"
    actions.card_close_and_route(
        actor=supervisor, card=red, accountability="criticism", reasons="超期四个工作日，批评教育"
    )
    red.refresh_from_db()
    assert (red.status, red.accountability, red.closed_by_id) == ("closed", "criticism", supervisor.pk)
    assert Process.objects.get(pk=red.process_id).status == "DONE"
    assert list(supervision_replay(today=D(2026, 9, 25))) == []


def test_the_replay_finds_a_card_missing_extra_or_altered(case):
    sweep(D(2026, 9, 25))
    assert list(supervision_replay(today=D(2026, 9, 25))) == []
    reminder = SupervisionCard.objects.get(subject_type="case", level="reminder")
    SupervisionCard.objects.filter(pk=reminder.pk).update(raised_on=D(2026, 9, 24))
    kinds = {d.kind for d in supervision_replay(today=D(2026, 9, 25))}
    assert kinds == {"altered"}
    with pytest.raises(CommandError), time_machine.travel(at(D(2026, 9, 25)), tick=False):
        call_command("supervision_replay", stdout=open("/dev/null", "w"))  # noqa: SIM115
    SupervisionCard.objects.filter(pk=reminder.pk).update(raised_on=D(2026, 9, 23))
    SupervisionCard.objects.create(
        subject_type="case",
        subject_id=case.pk,
        subject_label="x",
        department=reminder.department,
        level="yellow",
        trigger="statutory_overrun",
        raised_on=D(2026, 9, 24),
        reply_due_on=D(2026, 9, 30),
        calendar_version=reminder.calendar_version,
        status="awaiting_answer",
    )
    assert {d.kind for d in supervision_replay(today=D(2026, 9, 25))} == {"extra"}


def test_the_replay_finds_a_missing_card(case):
    sweep(D(2026, 9, 18))
    # the sweep did not run since: on the 21st the yellow card is missing
    differences = list(supervision_replay(today=D(2026, 9, 21)))
    assert [(d.kind, d.key[2]) for d in differences] == [("missing", "yellow")]


def test_pages_of_a_card_per_role(client, case, bureau, supervisor, owner, django_assert_max_num_queries):
    sweep(D(2026, 9, 29))
    step_yellow = SupervisionCard.objects.get(subject_type="step", level="yellow")
    reviewer = next(iter(bureau.reviewers.values()))
    outsider = factories.staff_with_role(StaffRole.REVIEWER, department=factories.department("无关处"))
    for user, status in ((supervisor, 200), (reviewer, 200), (outsider, 404), (owner, 404)):
        client.force_login(user)
        assert client.get(reverse("workbench:card", args=[step_yellow.pk])).status_code == status, user
        assert client.get(reverse("card_notice_download", args=[step_yellow.pk])).status_code == status, user
    client.force_login(outsider)
    response = client.get(reverse("workbench:cards"))
    assert response.status_code == 200 and len(response.context["page"].object_list) == 0
    assert (
        client.post(reverse("workbench:card_action", args=[step_yellow.pk, "answer"]), {"text": "x"}).status_code == 404
    )
    client.force_login(supervisor)
    with django_assert_max_num_queries(30) as few:
        response = client.get(reverse("workbench:cards") + "?state=all")
    assert response.status_code == 200 and len(response.context["page"].object_list) == 5
    queries = len(few.captured_queries)
    # the notice is a PDF served as an attachment
    download = client.get(reverse("card_notice_download", args=[step_yellow.pk]))
    assert download["Content-Type"] == "application/pdf" and "attachment" in download["Content-Disposition"]
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    # bad input: an empty answer writes nothing and says why
    client.force_login(reviewer)
    response = client.post(reverse("workbench:card_action", args=[step_yellow.pk, "answer"]), {"text": ""}, follow=True)
    assert response.status_code == 200
    assert not CardEvent.objects.filter(card=step_yellow, action="answered").exists()
    response = client.post(reverse("workbench:card_action", args=[step_yellow.pk, "nonsense"]))
    assert response.status_code == 404
    client.force_login(supervisor)
    more = file_application(case.applicant, case.enterprise, case.item_version)
    with time_machine.travel(at(D(2026, 9, 14)), tick=False):
        accept(bureau, more)
    sweep(D(2026, 9, 29))
    with django_assert_max_num_queries(queries):
        response = client.get(reverse("workbench:cards") + "?state=all")
    assert len(response.context["page"].object_list) > 5


def test_the_callback_of_a_bad_rating_runs_on_the_ladder(bureau, owner, enterprise):
    from tests.approvals.rating_helpers import rate, withdrawn_case

    application = withdrawn_case(bureau, owner, enterprise)
    # rated badly on Wed 30 Sep 2026: the callback is due Thu 8 Oct (after the National Day week)
    with time_machine.travel(at(D(2026, 9, 30), 15), tick=False):
        rate(owner, application, 1)
    sweep(D(2026, 10, 8))
    assert card_set() == {("rating_callback", "reminder", "approaching", D(2026, 10, 8), None)}
    # not called back by the end of the 8th: a yellow card on the 9th, its answer due the next working day
    sweep(D(2026, 10, 9))
    yellow = SupervisionCard.objects.get(subject_type="rating_callback", level="yellow")
    assert (yellow.raised_on, yellow.reply_due_on) == (D(2026, 10, 9), D(2026, 10, 10))
    assert yellow.department_id == application.item_version.lead_department_id
    assert list(supervision_replay(today=D(2026, 10, 9))) == []


def _policy_application(owner, enterprise, day: datetime.date):  # type: ignore[no-untyped-def]
    from credit.policies import services as policy_services
    from tests.credit.test_policy_services import make_policy

    policy = make_policy()
    with time_machine.travel(at(day, 10), tick=False):
        return policy_services.policy_application_submit(
            actor=owner, enterprise=enterprise, policy=policy, requested_amount="100000"
        )


def test_the_policy_offices_review_runs_on_the_ladder(bureau, owner, enterprise):
    # given an eligible policy application submitted Mon 14 Sep 2026: the policy office decides
    # within 10 working days — 15–18, Sun 20 (make-up), 21–24 Sep, then Mon 28 (25 is a holiday)
    application = _policy_application(owner, enterprise, D(2026, 9, 14))
    assert application.status == "pending_review"
    assert (application.review_due_on, application.review_due_provisional) == (D(2026, 9, 28), False)
    # two working days left on Wed 23 Sep (24 and 28): a reminder; undecided by the end of the 28th: yellow
    sweep(D(2026, 9, 22))
    assert card_set() == set()
    sweep(D(2026, 9, 23))
    assert card_set() == {("policy_review", "reminder", "approaching", D(2026, 9, 23), None)}
    sweep(D(2026, 9, 29))
    yellow = SupervisionCard.objects.get(subject_type="policy_review", level="yellow")
    # addressed to the policy office, not to a department
    assert (yellow.office, yellow.department_id, yellow.application_id) == ("policy_office", None, None)
    assert yellow.raised_on == D(2026, 9, 29)
    assert list(supervision_replay(today=D(2026, 9, 29))) == []


def test_a_policy_review_decided_in_time_raises_nothing(bureau, owner, enterprise):
    from credit.policies import services as policy_services

    application = _policy_application(owner, enterprise, D(2026, 9, 14))
    office = factories.staff_with_role("policy_office")
    with time_machine.travel(at(D(2026, 9, 21), 11), tick=False):
        policy_services.policy_application_refuse(actor=office, application=application, reason="预算已用完")
    for day in (D(2026, 9, 24), D(2026, 9, 29), D(2026, 10, 12)):
        sweep(day)
    assert not SupervisionCard.objects.filter(subject_type="policy_review").exists()


def test_a_review_deadline_in_an_uncovered_year_is_provisional_then_recomputed(db, owner, enterprise):
    from approvals.calendar import services as calendar_services
    from approvals.models import CalendarYear

    # given a calendar of 2026 only (weekdays, no holidays entered) and a submission on Mon 28 Dec
    # 2026: in 2027, not in the calendar yet, weekdays count
    calendar_services.calendar_year_publish(actor=None, year=2026, days=[], source=CalendarYear.Source.MANUAL)
    application = _policy_application(owner, enterprise, D(2026, 12, 28))
    assert application.review_due_provisional is True
    assert application.review_due_on == D(2027, 1, 11)  # 29–31 Dec, then 7 weekdays of January
    # when 2027 is entered with its New Year holiday on Fri 1 Jan
    with time_machine.travel(at(D(2026, 12, 29), 10), tick=False):
        calendar_services.calendar_year_publish(
            actor=None, year=2027, days=[(D(2027, 1, 1), "holiday", "元旦")], source=CalendarYear.Source.MANUAL
        )
    # then the deadline is recomputed on it and is final
    application.refresh_from_db()
    assert (application.review_due_on, application.review_due_provisional) == (D(2027, 1, 12), False)
