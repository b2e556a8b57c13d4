"""好差评: one rating per finished case by a person acting for the applicant's enterprise, the one
re-rating after the reply to a bad rating, and the database's own rules."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, connection, transaction

from approvals.models import Application, Rating, RatingLoop
from approvals.ratings import selectors, services
from approvals.ratings.triggers import follows_trigger_present
from core.append_only import triggers_present
from core.exceptions import DomainError
from core.models import AuditEvent
from core.outbox.models import OutboxMessage
from tests import factories
from tests.approvals.rating_helpers import levels, loop_to, rate, withdrawn_case
from tests.workflows.conftest import file_application, make_item

pytestmark = pytest.mark.django_db


def test_a_good_rating_of_an_ended_case_is_recorded_once_with_an_audit_event(bureau, owner, enterprise):
    # given a withdrawn case
    application = withdrawn_case(bureau, owner, enterprise)

    # when its applicant rates it 满意
    rating = rate(owner, application, 4, comment="办理顺利", efficiency=5)

    # then one first rating, copied item and lead department, no loop, one audit event
    rating.refresh_from_db()
    assert (rating.round, rating.level, rating.efficiency, rating.follows_id) == (Rating.Round.FIRST, 4, 5, None)
    assert rating.department_id == bureau.lead.pk
    assert rating.item_id == application.item_version.item_id
    assert not RatingLoop.objects.exists()
    assert AuditEvent.objects.filter(action="rating.given", object_id=str(rating.pk)).count() == 1


def test_a_second_rating_is_refused(bureau, owner, enterprise):
    application = withdrawn_case(bureau, owner, enterprise)
    rate(owner, application, 5)

    with pytest.raises(DomainError) as refused:
        rate(owner, application, 3)

    assert refused.value.code == "rating_already_given"
    assert Rating.objects.filter(application=application).count() == 1


def test_a_case_not_ended_cannot_be_rated(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau, co_review=0))

    with pytest.raises(DomainError) as refused:
        rate(owner, application, 5)

    assert refused.value.code == "rating_case_not_ended"
    assert not Rating.objects.exists()


def test_another_enterprise_and_staff_cannot_rate(bureau, owner, enterprise, peer):
    application = withdrawn_case(bureau, owner, enterprise)

    for stranger in (peer, bureau.decider):
        with pytest.raises(DomainError) as refused:
            rate(stranger, application, 1)
        assert refused.value.code == "not_found"
    assert not Rating.objects.exists()


def test_an_agent_whose_authorisation_lapsed_cannot_rate(bureau, owner, enterprise):
    application = withdrawn_case(bureau, owner, enterprise)
    agent = factories.MembershipFactory(enterprise=enterprise, confirmed=True, agent=True, expired=True).user

    with pytest.raises(DomainError) as refused:
        rate(agent, application, 5)

    assert refused.value.code == "not_found"


@pytest.mark.parametrize(
    ("values", "comment", "code"),
    [
        (levels(0), "", "rating_level_invalid"),
        (levels(6), "", "rating_level_invalid"),
        (levels(3, usability=9), "", "rating_level_invalid"),
        (levels(3), "长" * 501, "text_too_long"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(bureau, owner, enterprise, values, comment, code):
    application = withdrawn_case(bureau, owner, enterprise)

    with pytest.raises(DomainError) as refused:
        services.rating_give(actor=owner, application=application, comment=comment, **values)

    assert refused.value.code == code
    assert not Rating.objects.exists()


def test_a_bad_rating_opens_the_loop_with_due_days_and_tells_the_department(bureau, owner, enterprise):
    application = withdrawn_case(bureau, owner, enterprise)

    rating = rate(owner, application, 2, comment="窗口等待时间过长")

    loop = RatingLoop.objects.get(rating=rating)
    assert (loop.status, loop.department_id, loop.application_id) == ("callback", bureau.lead.pk, application.pk)
    assert loop.callback_due_on < loop.rectify_due_on
    assert not loop.callback_due_provisional
    assert AuditEvent.objects.filter(action="rating_loop.opened", object_id=str(loop.pk)).exists()
    assert OutboxMessage.objects.filter(kind="rating.loop_opened", recipient=bureau.decider).count() == 1


def test_the_rerating_waits_for_the_reply_and_is_allowed_once(bureau, owner, enterprise):
    # given a bad rating whose loop is at the reply
    application = withdrawn_case(bureau, owner, enterprise)
    first = rate(owner, application, 1)
    loop = loop_to(RatingLoop.objects.get(rating=first), bureau.decider, RatingLoop.Status.REPLY)

    # when the applicant rates again before the reply: refused
    with pytest.raises(DomainError) as early:
        rate(owner, application, 4)
    assert early.value.code == "rerating_not_yet"

    # when the department replies, the enterprise is told and may rate once more
    loop = loop_to(loop, bureau.decider, RatingLoop.Status.CLOSED)
    assert OutboxMessage.objects.filter(kind="rating.loop_replied", recipient=owner).count() == 1
    again = rate(owner, application, 4)
    assert (again.round, again.follows_id) == (Rating.Round.RERATING, first.pk)
    assert AuditEvent.objects.filter(action="rating.given_again", object_id=str(again.pk)).exists()

    # and never a third time; a bad re-rating opens no second loop
    with pytest.raises(DomainError) as third:
        rate(owner, application, 1)
    assert third.value.code == "rerating_already_given"
    assert RatingLoop.objects.count() == 1


def test_a_good_first_rating_allows_no_rerating(bureau, owner, enterprise):
    application = withdrawn_case(bureau, owner, enterprise)
    rate(owner, application, 3)

    with pytest.raises(DomainError) as refused:
        rate(owner, application, 5)

    assert refused.value.code == "rating_already_given"


# --- the database's own rules --------------------------------------------------------------------------


def _row(application: Application, user, **fields) -> Rating:  # type: ignore[no-untyped-def]
    values = {
        "application": application,
        "item_id": application.item_version.item_id,
        "department_id": application.item_version.lead_department_id,
        "rated_by": user,
        "rated_on": datetime.date(2026, 5, 6),
        **levels(3),
    }
    values.update(fields)
    return Rating(**values)


def test_the_database_allows_one_first_rating_per_case(bureau, owner, enterprise):
    application = withdrawn_case(bureau, owner, enterprise)
    _row(application, owner).save()

    with pytest.raises(IntegrityError), transaction.atomic():
        _row(application, owner).save()


def test_the_database_allows_one_rerating_per_case_following_its_first_rating(bureau, owner, enterprise):
    application = withdrawn_case(bureau, owner, enterprise)
    other = withdrawn_case(bureau, owner, enterprise)
    first = _row(application, owner)
    first.save()
    other_first = _row(other, owner)
    other_first.save()

    # a re-rating without the rating it follows, or a first rating following one: refused
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(application, owner, round=2).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(application, owner, round=1, follows=first).save()
    # a re-rating that follows another case's rating: refused by the trigger
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(application, owner, round=2, follows=other_first).save()
    # one re-rating following its own first rating, and only one
    _row(application, owner, round=2, follows=first).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(application, owner, round=2, follows=first).save()


@pytest.mark.parametrize("field", ["level", "efficiency", "guide_accuracy", "convenience", "usability"])
@pytest.mark.parametrize("value", [0, 6])
def test_the_database_keeps_every_level_between_one_and_five(bureau, owner, enterprise, field, value):
    application = withdrawn_case(bureau, owner, enterprise)

    with pytest.raises(IntegrityError), transaction.atomic():
        _row(application, owner, **{field: value}).save()


def test_a_rating_can_never_be_edited_or_deleted(bureau, owner, enterprise):
    application = withdrawn_case(bureau, owner, enterprise)
    rating = rate(owner, application, 4)

    with pytest.raises(ValueError, match="append-only"):
        rating.save()
    with pytest.raises(ValueError, match="append-only"):
        rating.delete()
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017, PT011  (the driver's error for a trigger)
        Rating.objects.filter(pk=rating.pk).update(level=1)
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017, PT011
        Rating.objects.filter(pk=rating.pk).delete()
    assert Rating.objects.get(pk=rating.pk).level == 4


def test_the_triggers_exist_after_the_last_migration():
    assert {"approvals_rating_no_update", "approvals_rating_no_delete"} <= triggers_present(connection)
    assert follows_trigger_present(connection)


def test_the_database_keeps_the_loop_consistent(bureau, owner, enterprise):
    application = withdrawn_case(bureau, owner, enterprise)
    loop = RatingLoop.objects.get(rating=rate(owner, application, 1))

    for fields in (
        {"status": "verify"},  # past the callback without a callback
        {"status": "closed"},  # closed without a reply
        {"nothing_to_rectify": True, "problem_confirmed": True},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            RatingLoop.objects.filter(pk=loop.pk).update(**fields)
    # one loop per case
    with pytest.raises(IntegrityError), transaction.atomic():
        RatingLoop.objects.create(
            rating=Rating.objects.get(application=application),
            application=application,
            department=bureau.lead,
            callback_due_on=loop.callback_due_on,
            rectify_due_on=loop.rectify_due_on,
            due_calendar_version=1,
        )


# --- reads ----------------------------------------------------------------------------------------------


def test_the_public_scores_count_the_rating_that_stands(bureau, owner, enterprise):
    # given three cases of one item's department: 5; 1 then re-rated 4; 2 with its loop open
    cases = [withdrawn_case(bureau, owner, enterprise) for _ in range(3)]
    rate(owner, cases[0], 5)
    first = rate(owner, cases[1], 1)
    loop_to(RatingLoop.objects.get(rating=first), bureau.decider, RatingLoop.Status.CLOSED)
    rate(owner, cases[1], 4)
    rate(owner, cases[2], 2)

    [row] = selectors.rating_scores_by_department()

    assert (row["cases"], row["good"], row["bad_first"]) == (3, 2, 2)
    assert row["average"] == pytest.approx((5 + 4 + 2) / 3)
    assert row["good_share"] == pytest.approx(200 / 3)
    items = selectors.rating_scores_page(list(selectors.rating_scores_by_item()))
    assert sum(r["cases"] for r in items) == 3
    assert all(r["name"] == "食品经营许可" for r in items)
    assert not list(selectors.rating_scores_by_item(query="no such item"))


def test_the_open_loops_deadlines_name_step_department_due_day_handler_and_case(bureau, owner, enterprise):
    # given a loop waiting for its callback, one at verification taken up by the decider, one closed
    cases = [withdrawn_case(bureau, owner, enterprise) for _ in range(3)]
    loops = [RatingLoop.objects.get(rating=rate(owner, case, 1)) for case in cases]
    loop_to(loops[1], bureau.decider, RatingLoop.Status.VERIFY)
    loop_to(loops[2], bureau.decider, RatingLoop.Status.CLOSED)

    rows = {row.loop_id: row for row in selectors.rating_loop_deadlines_open()}

    assert set(rows) == {loops[0].pk, loops[1].pk}
    waiting, verifying = rows[loops[0].pk], rows[loops[1].pk]
    assert (waiting.step, waiting.due_on, waiting.handler) == ("callback", loops[0].callback_due_on, None)
    assert (verifying.step, verifying.due_on, verifying.handler) == ("verify", loops[1].rectify_due_on, bureau.decider)
    assert waiting.department == bureau.lead and waiting.application == cases[0]
