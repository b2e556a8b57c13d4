"""Races on 好差评, with real threads on PostgreSQL: people acting for one enterprise rating the same
case at the same moment get exactly one rating and, for a bad one, exactly one loop and one process;
two colleagues taking up one loop at once: one handler; two simultaneous re-ratings: one."""

from __future__ import annotations

import pytest
from viewflow.workflow.models import Process

from approvals.models import Application, Rating, RatingLoop
from approvals.organisation.roles import StaffRole
from approvals.ratings import services
from core.exceptions import DomainError
from tests import factories
from tests.approvals.rating_helpers import levels, loop_to, rate, withdrawn_case
from tests.concurrency.conftest import run_concurrently
from workflows.actions import ratings as actions
from workflows.rating_flows import BadRatingFlow

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ROUNDS = 5
THREADS = 4


def _rate_fresh(actor, application_pk: int, level: int):  # type: ignore[no-untyped-def]
    return actions.rating_give_and_start(
        actor=actor, application=Application.objects.get(pk=application_pk), **levels(level)
    )


def test_simultaneous_first_ratings_of_one_case_give_one_rating_and_one_loop(bureau, owner, enterprise):
    colleagues = [owner] + [
        factories.MembershipFactory(enterprise=enterprise, confirmed=True).user for _ in range(THREADS - 1)
    ]
    for _round in range(ROUNDS):
        application = withdrawn_case(bureau, owner, enterprise)

        results = run_concurrently(*(lambda who=who: _rate_fresh(who, application.pk, 1) for who in colleagues))

        given = [r for r in results if isinstance(r, Rating)]
        refused = [r for r in results if isinstance(r, DomainError)]
        assert len(given) == 1, results
        # the losers waited on the case's row and found it rated badly, its loop open
        assert [r.code for r in refused] == ["rerating_not_yet"] * (THREADS - 1), results
        assert Rating.objects.filter(application=application).count() == 1
        loop = RatingLoop.objects.get(application=application)
        assert Process.objects.filter(flow_class=BadRatingFlow, artifact_object_id=loop.pk).count() == 1
    assert RatingLoop.objects.count() == ROUNDS
    assert Process.objects.filter(flow_class=BadRatingFlow).count() == ROUNDS


def test_two_colleagues_taking_up_one_loop_at_once_give_it_one_handler(bureau, owner, enterprise):
    loop = RatingLoop.objects.get(rating=rate(owner, withdrawn_case(bureau, owner, enterprise), 2))
    colleagues = [bureau.decider, factories.staff_with_role(StaffRole.DECIDER, department=bureau.lead)]

    results = run_concurrently(
        *(
            lambda who=who: services.rating_loop_claim(actor=who, loop=RatingLoop.objects.get(pk=loop.pk))
            for who in colleagues
        )
    )

    assert sorted(type(r).__name__ for r in results) == ["RatingError", "RatingLoop"], results
    assert [r.code for r in results if isinstance(r, DomainError)] == ["rating_loop_taken"]
    loop.refresh_from_db()
    assert loop.handler_id in {c.pk for c in colleagues}


def test_simultaneous_reratings_after_the_reply_give_one(bureau, owner, enterprise):
    application = withdrawn_case(bureau, owner, enterprise)
    loop_to(RatingLoop.objects.get(rating=rate(owner, application, 1)), bureau.decider, RatingLoop.Status.CLOSED)
    colleague = factories.MembershipFactory(enterprise=enterprise, confirmed=True).user

    results = run_concurrently(*(lambda who=who: _rate_fresh(who, application.pk, 4) for who in (owner, colleague)))

    assert len([r for r in results if isinstance(r, Rating)]) == 1, results
    assert [r.code for r in results if isinstance(r, DomainError)] == ["rerating_already_given"]
    assert Rating.objects.filter(application=application, round=Rating.Round.RERATING).count() == 1
