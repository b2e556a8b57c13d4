"""Two clocks on every case (issue 13, item 1): the services store the promised and the statutory
deadline from the same clock events, every recompute path refreshes both, and the staff case page,
the supervisor's list and the applicant's page show both dates and where the case stands.

The calendar is the bureau's (``factories.calendar_published``: 2025 and 2026 from the
chinese-calendar package, 2027 Monday–Friday). In 2026 Mid-autumn (Fri 25 September) and National
Day (1–7 October) are off, Sun 20 September and Sat 10 October are worked.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from approvals.applications import services
from approvals.calendar import clock
from approvals.calendar import selectors as calendar_selectors
from approvals.calendar import services as calendar_services
from approvals.models import Application, CalendarYear
from approvals.organisation.roles import StaffRole
from tests import factories
from tests.workflows.conftest import Bureau, accept, file_application, make_item
from tests.workflows.test_fast_track import ITEM, fast_track_policy

pytestmark = pytest.mark.django_db

D = datetime.date


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_current_timezone())


def stored(application: Application) -> tuple[datetime.date | None, datetime.date | None]:
    row = Application.objects.get(pk=application.pk)
    return row.deadline, row.statutory_deadline


# --- the services ----------------------------------------------------------------------------------


def test_accept_suspend_resume_extend_move_both_stored_deadlines(bureau, owner, enterprise):
    # Given an item with a promised limit of 10 and a statutory limit of 20 working days
    version = make_item(bureau, co_review=1, promised_limit_days=10, statutory_limit_days=20)
    with time_machine.travel(at(D(2026, 9, 14)), tick=False):
        application = file_application(owner, enterprise, version)
        assert stored(application) == (None, None)  # not accepted: no clock runs
        # When the window accepts on Mon 14 Sep
        accept(bureau, application)
    # Then: promised Mon 28 Sep (Sun 20 worked, Fri 25 off), statutory Fri 16 Oct (1–7 Oct off,
    # Sat 10 worked)
    assert stored(application) == (D(2026, 9, 28), D(2026, 10, 16))
    assert application.statutory_deadline == D(2026, 10, 16)  # the instance is kept up to date too
    row = Application.objects.get(pk=application.pk)
    assert row.deadline_provisional is False and row.statutory_deadline_provisional is False

    # When an excluded period (art. 45, expert review) opens on Thu 24 Sep: neither moves yet
    with time_machine.travel(at(D(2026, 9, 24)), tick=False):
        services.application_suspend(
            expected_days=10,
            actor=bureau.decider,
            application=application,
            department=bureau.lead,
            reason="expert_review",
            comment="专家评审",
        )
    assert stored(application) == (D(2026, 9, 28), D(2026, 10, 16))
    assert Application.objects.get(pk=application.pk).clock_suspended

    # When it closes on Fri 9 Oct: 5 working days (28–30 Sep, 8–9 Oct) move both clocks
    with time_machine.travel(at(D(2026, 10, 9)), tick=False):
        services.application_resume(actor=bureau.decider, application=application, department=bureau.lead)
    assert stored(application) == (D(2026, 10, 10), D(2026, 10, 23))

    # When the lead department approves an extension of 5 working days (art. 42) on Mon 12 Oct
    with time_machine.travel(at(D(2026, 10, 12)), tick=False):
        factories.extension_granted(requester=bureau.decider, application=application, days=5, reason="需要补充论证")
    # Then both move by 5 more: promised 10 + 5 + 5, statutory 20 + 5 + 5
    assert stored(application) == (D(2026, 10, 16), D(2026, 10, 30))
    accepted_on = application.accepted_on
    assert stored(application) == (
        calendar_selectors.add_working_days(accepted_on, 20),
        calendar_selectors.add_working_days(accepted_on, 30),
    )


def test_a_supplement_request_after_acceptance_moves_both_deadlines(bureau, owner, enterprise):
    version = make_item(bureau, co_review=1)
    with time_machine.travel(at(D(2026, 11, 2)), tick=False):
        application = file_application(owner, enterprise, version)
        accept(bureau, application)
    assert stored(application) == (D(2026, 11, 16), D(2026, 11, 30))
    with time_machine.travel(at(D(2026, 11, 4)), tick=False):
        notice = services.application_supplement_after_acceptance(
            actor=bureau.decider,
            application=application,
            department=bureau.lead,
            material_ids=[],
            other="补充说明",
            message="请补充说明",
        )
    with time_machine.travel(at(D(2026, 11, 11)), tick=False):
        services.application_supplement_answer(
            actor=owner, application=application, notice=notice, answer="见说明", uploads=[]
        )
    # Thu 5 … Wed 11 Nov: 5 working days suspended
    assert stored(application) == (D(2026, 11, 23), D(2026, 12, 7))


def test_the_fast_track_reduction_shortens_the_promised_deadline_only(bureau, owner, enterprise):
    fast_track_policy(reduction=5)
    version = make_item(bureau, code=ITEM, promised_limit_days=10, statutory_limit_days=20)
    with time_machine.travel(at(D(2026, 11, 2)), tick=False):
        application = file_application(owner, enterprise, version)
        accept(bureau, application)
    assert application.fast_track_decision is not None
    # Mon 2 Nov: promised 10 − 5 = Mon 9 Nov; statutory the law's 20 = Mon 30 Nov
    assert stored(application) == (D(2026, 11, 9), D(2026, 11, 30))


def test_a_row_from_before_the_column_is_filled_by_the_next_refresh(bureau, owner, enterprise):
    version = make_item(bureau)
    with time_machine.travel(at(D(2026, 11, 2)), tick=False):
        application = file_application(owner, enterprise, version)
        accept(bureau, application)
    Application.objects.filter(pk=application.pk).update(statutory_deadline=None)
    services.application_clock_refresh(Application.objects.get(pk=application.pk))
    assert stored(application) == (D(2026, 11, 16), D(2026, 11, 30))


def test_entering_a_year_recomputes_a_statutory_deadline_that_alone_was_provisional(owner, enterprise):
    # Given a calendar with 2026 only, and a case accepted Mon 14 Dec 2026 (promised 10, statutory 20)
    calendar_services.calendar_year_publish(actor=None, year=2026, days=[], source=CalendarYear.Source.MANUAL)
    desk, lead, co = factories.department("窗口"), factories.department("牵头处"), factories.department("会审处")
    bureau = Bureau(
        desk=desk,
        lead=lead,
        co=[co],
        desk_user=factories.staff_with_role(StaffRole.DESK, department=desk),
        decider=factories.staff_with_role(StaffRole.DECIDER, department=lead),
        reviewers={co.pk: factories.staff_with_role(StaffRole.REVIEWER, department=co)},
    )
    version = make_item(bureau, co_review=1, promised_limit_days=10, statutory_limit_days=20)
    with time_machine.travel(at(D(2026, 12, 14)), tick=False):
        application = file_application(owner, enterprise, version)
        accept(bureau, application)
    row = Application.objects.get(pk=application.pk)
    # Then the promised Mon 28 Dec is final; the statutory one counts weekdays of 2027: Mon 11 Jan
    assert (row.deadline, row.deadline_provisional) == (D(2026, 12, 28), False)
    assert (row.statutory_deadline, row.statutory_deadline_provisional) == (D(2027, 1, 11), True)
    assert calendar_selectors.calendar_warnings()["years"] == [2027]
    # When 2027 is entered (example data: Fri 1 and Mon 4 January off)
    calendar_services.calendar_year_publish(
        actor=None,
        year=2027,
        days=[(D(2027, 1, 1), "holiday", "元旦"), (D(2027, 1, 4), "holiday", "元旦调休")],
        source=CalendarYear.Source.MANUAL,
    )
    # Then the statutory deadline is recomputed on it, and no longer provisional
    row = Application.objects.get(pk=application.pk)
    assert (row.statutory_deadline, row.statutory_deadline_provisional) == (D(2027, 1, 13), False)
    assert row.deadline == D(2026, 12, 28)
    assert calendar_selectors.calendar_warnings()["years"] == []


# --- the pages -------------------------------------------------------------------------------------


@pytest.fixture
def supervisor(db):  # type: ignore[no-untyped-def]
    return factories.staff_with_role(StaffRole.SUPERVISOR)


def _two_late_cases(bureau, owner, enterprise):  # type: ignore[no-untyped-def]
    """Accepted Mon 14 Sep 2026: ``graver`` (statutory 20: due Fri 16 Oct) and ``late`` (statutory
    30: due Fri 30 Oct); both promised 10, due Mon 28 Sep."""
    graver_item = make_item(bureau, co_review=1, promised_limit_days=10, statutory_limit_days=20)
    late_item = make_item(bureau, co_review=1, promised_limit_days=10, statutory_limit_days=30)
    with time_machine.travel(at(D(2026, 9, 14)), tick=False):
        graver = file_application(owner, enterprise, graver_item)
        late = file_application(owner, enterprise, late_item)
        accept(bureau, graver)
        accept(bureau, late)
    assert stored(graver) == (D(2026, 9, 28), D(2026, 10, 16))
    assert stored(late) == (D(2026, 9, 28), D(2026, 10, 30))
    return graver, late


def test_the_three_pages_show_both_deadlines_and_the_graver_state(client, bureau, owner, enterprise, supervisor):
    graver, late = _two_late_cases(bureau, owner, enterprise)
    # On Tue 20 Oct 2026 ``graver`` is past its statutory limit, ``late`` past its promised one only
    with time_machine.travel(at(D(2026, 10, 20)), tick=False):
        client.force_login(supervisor)
        supervision = client.get(reverse("workbench:supervision"))
        client.force_login(bureau.decider)
        staff_graver = client.get(reverse("workbench:application", args=[graver.pk]))
        staff_late = client.get(reverse("workbench:application", args=[late.pk]))
        client.force_login(owner)
        portal_graver = client.get(reverse("portal:application", args=[graver.pk]))
        portal_late = client.get(reverse("portal:application", args=[late.pk]))

    # The supervisor: the statutory overrun first, in a row of its own kind, counted apart
    assert supervision.status_code == 200
    rows = supervision.context["applications"]
    assert [(a.pk, a.standing.state) for a in rows] == [
        (graver.pk, clock.STATUTORY_OVERRUN),
        (late.pk, clock.PROMISED_OVERRUN),
    ]
    assert (supervision.context["statutory_overruns"], supervision.context["promised_overruns"]) == (1, 1)
    rows_html = supervision.content.decode().split("<tr")
    graver_row = next(row for row in rows_html if graver.reference in row)
    late_row = next(row for row in rows_html if late.reference in row)
    assert graver_row.startswith(' class="row-red row-statutory"') and "band-statutory" in graver_row
    assert "2026-09-28" in graver_row and "2026-10-16" in graver_row
    assert late_row.startswith(' class="row-red"') and "band-statutory" not in late_row
    assert "2026-09-28" in late_row and "2026-10-30" in late_row

    # Staff and the applicant: both dates and the state on the case page
    for page, case, state, statutory in (
        (staff_graver, graver, clock.STATUTORY_OVERRUN, "2026-10-16"),
        (portal_graver, graver, clock.STATUTORY_OVERRUN, "2026-10-16"),
        (staff_late, late, clock.PROMISED_OVERRUN, "2026-10-30"),
        (portal_late, late, clock.PROMISED_OVERRUN, "2026-10-30"),
    ):
        assert page.status_code == 200 and page.context["application"].pk == case.pk
        assert page.context["standing"].state == state
        body = page.content.decode()
        promised_dd = body[body.index('class="deadline-promised"') :].split("</dd>")[0]
        statutory_dd = body[body.index('class="deadline-statutory"') :].split("</dd>")[0]
        assert "2026-09-28" in promised_dd and statutory in statutory_dd
        standing_dd = body[body.index('class="clock-standing"') :].split("</dd>")[0]
        assert ("band-statutory" in standing_dd) is (state == clock.STATUTORY_OVERRUN)
        assert ("band-red" in standing_dd) is (state == clock.PROMISED_OVERRUN)


def test_a_suspended_case_does_not_turn_late_inside_the_excluded_period(client, bureau, owner, enterprise):
    version = make_item(bureau, co_review=1, promised_limit_days=10, statutory_limit_days=20)
    with time_machine.travel(at(D(2026, 11, 2)), tick=False):
        application = file_application(owner, enterprise, version)
        accept(bureau, application)
    with time_machine.travel(at(D(2026, 11, 5)), tick=False):
        services.application_suspend(
            expected_days=10,
            actor=bureau.decider,
            application=application,
            department=bureau.lead,
            reason="testing",
            comment="检测",
        )
    # Mon 7 Dec is past both stored deadlines (16 and 30 Nov), but the clock stands still since 5 Nov
    with time_machine.travel(at(D(2026, 12, 7)), tick=False):
        client.force_login(owner)
        page = client.get(reverse("portal:application", args=[application.pk]))
    standing = page.context["standing"]
    assert standing.state == clock.ON_TIME and standing.as_of == D(2026, 11, 5)
    assert (page.context["days_left"], page.context["statutory_days_left"]) == (7, 17)


def test_a_row_without_a_statutory_deadline_shows_a_dash(client, bureau, owner, enterprise):
    version = make_item(bureau)
    application = file_application(owner, enterprise, version)
    accept(bureau, application)
    Application.objects.filter(pk=application.pk).update(statutory_deadline=None)
    client.force_login(owner)
    page = client.get(reverse("portal:application", args=[application.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "—" in body[body.index('class="deadline-statutory"') :].split("</dd>")[0]


def test_supervision_query_count_does_not_grow(
    client, bureau, owner, enterprise, supervisor, django_assert_max_num_queries
):
    version = make_item(bureau, co_review=1)
    for _ in range(2):
        accept(bureau, file_application(owner, enterprise, version))
    suspended = file_application(owner, enterprise, version)
    accept(bureau, suspended)
    services.application_suspend(
        expected_days=10,
        actor=bureau.decider,
        application=suspended,
        department=bureau.lead,
        reason="hearing",
        comment="听证",
    )
    client.force_login(supervisor)
    with django_assert_max_num_queries(40) as few:
        client.get(reverse("workbench:supervision"))
    for _ in range(6):
        late = file_application(owner, enterprise, version)
        accept(bureau, late)
        services.application_suspend(
            expected_days=10,
            actor=bureau.decider,
            application=late,
            department=bureau.lead,
            reason="hearing",
            comment="听证",
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("workbench:supervision"))
    assert len(response.context["applications"]) == 9
    assert sum(a.clock_suspended for a in response.context["applications"]) == 7
    assert all(a.standing.as_of <= timezone.localdate() for a in response.context["applications"])
