"""The 差评 loop through the screens: the applicant rates on the case page, the lead department
works callback → verify → rectify → reply on its loop page (BadRatingFlow moving with each step),
the applicant rates once more; scoping (other enterprises, other departments: 404), bad input
(400, nothing written), deadlines on the real calendar, constant query counts."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Process, Task

from approvals.models import Rating, RatingLoop
from approvals.organisation.roles import StaffRole
from core.models import AuditEvent
from core.outbox.models import OutboxMessage
from tests import factories
from tests.approvals.rating_helpers import levels, loop_to, rate, withdrawn_case
from workflows.actions import ratings as actions
from workflows.rating_flows import BadRatingFlow

pytestmark = pytest.mark.django_db

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def _trail(loop: RatingLoop) -> list[tuple[str, str]]:
    process = actions.process_of(loop)
    assert process is not None
    return [(t.flow_task.name, t.status) for t in Task.objects.filter(process=process).order_by("pk")]


def _post_step(client, loop: RatingLoop, action: str, **data: Any):  # type: ignore[no-untyped-def]
    return client.post(reverse("workbench:rating_loop", args=[loop.pk]), {"action": action, **data})


def test_the_loop_runs_end_to_end_through_the_screens(client, bureau, owner, enterprise):
    # given a finished case
    application = withdrawn_case(bureau, owner, enterprise)
    client.force_login(owner)
    page = client.get(reverse("portal:application", args=[application.pk]))
    assert page.status_code == 200 and page.context["may_rate"]

    # when the applicant rates it 非常不满意 on the case page
    response = client.post(
        reverse("portal:application_rate", args=[application.pk]), {**levels(1), "comment": "等待时间过长"}
    )

    # then the rating, its loop and the flow waiting for the callback
    assert response.status_code == 302
    loop = RatingLoop.objects.get(application=application)
    assert _trail(loop) == [("start", "DONE"), ("callback", "NEW")]
    page = client.get(reverse("portal:application", args=[application.pk]))
    assert page.context["rating_loop"] == loop and page.context["rating_form"] is None

    # when the lead department's decision maker takes it up and records each step
    client.force_login(bureau.decider)
    listing = client.get(reverse("workbench:rating_loops"))
    assert listing.status_code == 200 and [row.pk for row in listing.context["page"]] == [loop.pk]
    assert client.get(reverse("workbench:rating_loop", args=[loop.pk])).status_code == 200
    assert _post_step(client, loop, "claim").status_code == 303
    contacted = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    assert (
        _post_step(client, loop, "callback", contacted_at=contacted, channel="phone", notes="电话回访").status_code
        == 303
    )
    assert _post_step(client, loop, "verify", confirmed="yes", findings="高峰期窗口不足").status_code == 303
    assert _post_step(client, loop, "rectify", rectification="增开两个窗口").status_code == 303
    assert _post_step(client, loop, "reply", reply="已增开窗口，感谢监督。").status_code == 303

    # then the loop is closed, the flow has ended, and the applicant is told
    loop.refresh_from_db()
    assert (loop.status, loop.problem_confirmed, loop.handler) == ("closed", True, bureau.decider)
    assert _trail(loop) == [
        ("start", "DONE"),
        ("callback", "DONE"),
        ("verify", "DONE"),
        ("rectify", "DONE"),
        ("reply", "DONE"),
        ("replied", "DONE"),
    ]
    assert actions.process_of(loop).status == "DONE"  # type: ignore[union-attr]
    assert OutboxMessage.objects.filter(kind="rating.loop_replied", recipient=owner).exists()
    steps = ["claimed", "called_back", "verified", "rectified", "replied"]
    assert [
        e.action.removeprefix("rating_loop.")
        for e in AuditEvent.objects.filter(object_type="approvals.ratingloop", object_id=str(loop.pk)).order_by("id")
    ] == ["opened", *steps]

    # when the applicant rates again: once, never twice
    client.force_login(owner)
    assert client.get(reverse("portal:application", args=[application.pk])).context["may_rerate"]
    assert client.post(reverse("portal:application_rate", args=[application.pk]), levels(4)).status_code == 302
    again = client.post(reverse("portal:application_rate", args=[application.pk]), levels(5))
    assert again.status_code == 400
    assert [e.code for e in again.context["rating_form"].non_field_errors().as_data()] == ["rerating_already_given"]
    assert list(Rating.objects.filter(application=application).values_list("round", "level")) == [(1, 1), (2, 4)]


def test_steps_out_of_order_or_unclaimed_are_refused_and_write_nothing(client, bureau, owner, enterprise):
    loop = RatingLoop.objects.get(rating=rate(owner, withdrawn_case(bureau, owner, enterprise), 2))
    client.force_login(bureau.decider)

    # not taken up yet
    unclaimed = _post_step(client, loop, "callback", contacted_at="2026-01-01T10:00", channel="phone", notes="x")
    # a step that is not the current one
    skipped = _post_step(client, loop, "verify", confirmed="yes", findings="x")
    # taken up, then a callback in the future and without notes
    _post_step(client, loop, "claim")
    future = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    in_future = _post_step(client, loop, "callback", contacted_at=future, channel="phone", notes="电话")
    no_notes = _post_step(client, loop, "callback", contacted_at=future, channel="phone", notes="")
    bad_channel = _post_step(client, loop, "callback", contacted_at=future, channel="telepathy", notes="电话")

    assert unclaimed.status_code == 400
    assert [e.code for e in unclaimed.context["form"].non_field_errors().as_data()] == ["rating_loop_not_yours"]
    assert skipped.status_code == 303  # sent back to the page: the loop is not at that step
    assert in_future.status_code == 400
    assert [e.code for e in in_future.context["form"].non_field_errors().as_data()] == ["callback_time_invalid"]
    assert no_notes.status_code == 400 and "notes" in no_notes.context["form"].errors
    assert bad_channel.status_code == 400 and "channel" in bad_channel.context["form"].errors
    loop.refresh_from_db()
    assert (loop.status, loop.contacted_at) == ("callback", None)
    assert _trail(loop) == [("start", "DONE"), ("callback", "NEW")]


def test_a_confirmed_problem_cannot_be_left_unrectified(bureau, owner, enterprise):
    loop = RatingLoop.objects.get(rating=rate(owner, withdrawn_case(bureau, owner, enterprise), 2))
    loop = loop_to(loop, bureau.decider, RatingLoop.Status.RECTIFY, confirmed=True)

    with pytest.raises(Exception) as refused:  # noqa: PT011
        actions.rating_loop_rectify_and_route(
            actor=bureau.decider, loop=loop, rectification="无需整改", nothing_to_rectify=True
        )

    assert getattr(refused.value, "code", None) == "rectification_required"
    loop.refresh_from_db()
    assert loop.status == "rectify"


def test_an_unconfirmed_problem_may_close_with_nothing_to_rectify(bureau, owner, enterprise):
    loop = RatingLoop.objects.get(rating=rate(owner, withdrawn_case(bureau, owner, enterprise), 2))

    loop = loop_to(loop, bureau.decider, RatingLoop.Status.CLOSED, confirmed=False)

    assert (loop.problem_confirmed, loop.nothing_to_rectify, loop.status) == (False, True, "closed")


def test_other_enterprises_other_departments_and_staff_get_404(client, bureau, owner, enterprise, peer):
    application = withdrawn_case(bureau, owner, enterprise)
    loop = RatingLoop.objects.get(rating=rate(owner, application, 1))
    other_department = factories.department("其他审批处")
    outsiders = [
        factories.staff_with_role(StaffRole.DECIDER, department=other_department),
        factories.staff_with_role(StaffRole.REVIEWER, department=bureau.lead),  # a reviewer works no loop
    ]

    # another enterprise cannot rate the case; staff cannot rate at all
    for stranger in (peer, bureau.decider):
        client.force_login(stranger)
        assert client.post(reverse("portal:application_rate", args=[application.pk]), levels(5)).status_code == 404
    # staff of another department, or without the desk or decision role, see no loop
    for outsider in outsiders:
        client.force_login(outsider)
        assert client.get(reverse("workbench:rating_loop", args=[loop.pk])).status_code == 404
        assert _post_step(client, loop, "claim").status_code == 404
    client.force_login(outsiders[0])  # (its department has loops of its own: the list shows none of the lead's)
    assert client.get(reverse("workbench:rating_loops")).status_code == 200
    assert not list(client.get(reverse("workbench:rating_loops")).context["page"])
    client.force_login(outsiders[1])
    assert client.get(reverse("workbench:rating_loops")).status_code == 404
    client.force_login(owner)
    assert client.get(reverse("workbench:rating_loop", args=[loop.pk])).status_code == 404
    loop.refresh_from_db()
    assert loop.handler is None
    assert Rating.objects.count() == 1


def test_the_desk_of_the_lead_department_works_the_loop_too(client, bureau, owner, enterprise):
    desk_of_lead = factories.staff_with_role(StaffRole.DESK, department=bureau.lead)
    loop = RatingLoop.objects.get(rating=rate(owner, withdrawn_case(bureau, owner, enterprise), 2))
    client.force_login(desk_of_lead)

    assert _post_step(client, loop, "claim").status_code == 303

    loop.refresh_from_db()
    assert loop.handler == desk_of_lead


def test_the_auditor_reads_the_loops_and_each_read_is_recorded(client, bureau, owner, enterprise, auditor):
    loop = RatingLoop.objects.get(rating=rate(owner, withdrawn_case(bureau, owner, enterprise), 2))
    client.force_login(auditor)

    assert client.get(reverse("workbench:rating_loops")).status_code == 200
    page = client.get(reverse("workbench:rating_loop", args=[loop.pk]))
    refused = _post_step(client, loop, "claim")

    assert page.status_code == 200 and page.context["form"] is None
    assert refused.status_code == 400
    reads = AuditEvent.objects.filter(action="auditor.read", actor=auditor, object_type="approvals.ratingloop")
    assert sorted(reads.values_list("object_id", flat=True)) == sorted(["*", str(loop.pk)])
    loop.refresh_from_db()
    assert loop.handler is None


def test_bad_rating_input_gets_a_form_error_and_writes_nothing(client, bureau, owner, enterprise):
    application = withdrawn_case(bureau, owner, enterprise)
    client.force_login(owner)

    for data in ({}, {**levels(3), "level": "7"}, {**levels(3), "comment": "长" * 501}):
        response = client.post(reverse("portal:application_rate", args=[application.pk]), data)
        assert response.status_code == 400
    assert not Rating.objects.exists()


def test_a_case_not_ended_shows_no_rating_form_and_refuses_a_rating(client, bureau, owner, enterprise):
    from tests.workflows.conftest import file_application, make_item

    application = file_application(owner, enterprise, make_item(bureau, co_review=0))
    client.force_login(owner)

    page = client.get(reverse("portal:application", args=[application.pk]))
    response = client.post(reverse("portal:application_rate", args=[application.pk]), levels(5))

    assert page.status_code == 200 and page.context["rating_form"] is None
    assert response.status_code == 400
    assert [e.code for e in response.context["rating_form"].non_field_errors().as_data()] == ["rating_case_not_ended"]
    assert not Rating.objects.exists()


def test_deadlines_count_working_days_over_the_national_day_holiday(bureau, owner, enterprise):
    # given the 2026 calendar (National Day: 1–7 October off, Saturday 10 October a make-up working day)
    application = withdrawn_case(bureau, owner, enterprise)

    # when the case is rated badly on Wednesday 30 September 2026
    with time_machine.travel(datetime.datetime(2026, 9, 30, 15, 0, tzinfo=SHANGHAI), tick=False):
        loop = RatingLoop.objects.get(rating=rate(owner, application, 1))

    # then the callback is due on the first working day after the holiday, the rectification 15
    # working days on (counting the make-up Saturday), neither provisional
    assert loop.callback_due_on == datetime.date(2026, 10, 8)
    assert loop.rectify_due_on == datetime.date(2026, 10, 27)
    assert not (loop.callback_due_provisional or loop.rectify_due_provisional)


def test_a_deadline_in_a_year_the_calendar_does_not_cover_is_provisional(bureau, owner, enterprise):
    application = withdrawn_case(bureau, owner, enterprise)

    with time_machine.travel(datetime.datetime(2027, 12, 24, 10, 0, tzinfo=SHANGHAI), tick=False):
        loop = RatingLoop.objects.get(rating=rate(owner, application, 2))

    assert loop.callback_due_on == datetime.date(2027, 12, 27) and not loop.callback_due_provisional
    assert loop.rectify_due_on.year == 2028 and loop.rectify_due_provisional


def _loops(bureau, owner, enterprise, count: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(count):
        loop = RatingLoop.objects.get(rating=rate(owner, withdrawn_case(bureau, owner, enterprise), 1))
        loop_to(loop, bureau.decider, RatingLoop.Status.VERIFY)


def _queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_lists_query_counts_do_not_grow_with_the_data(client, bureau, owner, enterprise):
    client.force_login(bureau.decider)
    _loops(bureau, owner, enterprise, 2)
    loops_few = _queries(client, reverse("workbench:rating_loops"))
    public_few = _queries(client, reverse("rating_scores"))
    home_few = _queries(client, reverse("workbench:home"))

    _loops(bureau, owner, enterprise, 5)
    rate(owner, withdrawn_case(bureau, owner, enterprise, code="OTHER-1"), 5)

    assert _queries(client, reverse("workbench:rating_loops")) == loops_few
    assert _queries(client, reverse("rating_scores")) == public_few
    assert _queries(client, reverse("workbench:home")) <= home_few


def test_the_lists_page_filter_and_search(client, bureau, owner, enterprise):
    _loops(bureau, owner, enterprise, 3)
    closed = RatingLoop.objects.order_by("pk").first()
    assert closed is not None
    loop_to(closed, bureau.decider, RatingLoop.Status.CLOSED)
    client.force_login(bureau.decider)
    url = reverse("workbench:rating_loops")

    open_rows = list(client.get(url).context["page"])
    closed_rows = list(client.get(url, {"status": "closed"}).context["page"])
    every_row = list(client.get(url, {"status": "all"}).context["page"])
    searched = list(client.get(url, {"status": "all", "q": closed.application.reference}).context["page"])
    nonsense = client.get(url, {"status": "nonsense", "department": "x" * 20, "page": "-3"})

    assert closed not in open_rows and len(open_rows) == 2
    assert closed_rows == [closed]
    assert every_row[-1] == closed  # open first
    assert searched == [closed]
    assert nonsense.status_code == 200
    public = client.get(reverse("rating_scores"), {"q": "食品", "department": str(bureau.lead.pk)})
    assert public.status_code == 200 and [row["cases"] for row in public.context["items"]] == [1, 1, 1]


def test_the_public_page_shows_no_rater_and_no_comment(client, bureau, owner, enterprise):
    rate(owner, withdrawn_case(bureau, owner, enterprise), 2, comment="张三在窗口态度恶劣")
    client.logout()

    response = client.get(reverse("rating_scores"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "张三" not in body and enterprise.name not in body and str(owner) not in body


def test_the_process_is_started_in_the_rating_transaction(bureau, owner, enterprise):
    application = withdrawn_case(bureau, owner, enterprise)

    rate(owner, application, 5)
    assert not Process.objects.filter(flow_class=BadRatingFlow).exists()
    rating = rate(owner, withdrawn_case(bureau, owner, enterprise), 1)

    assert Process.objects.filter(flow_class=BadRatingFlow, artifact_object_id=rating.loop.pk).count() == 1
