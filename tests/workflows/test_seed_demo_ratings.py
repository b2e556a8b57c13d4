"""The demo's ratings: several closed cases rated, one 差评 loop closed by a re-rating, one open at
the callback; running the seed again adds nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from approvals.models import Rating, RatingLoop
from approvals.ratings import selectors
from workflows.actions import ratings as actions

pytestmark = pytest.mark.django_db


def test_seed_demo_ratings_rates_closed_cases_with_one_loop_closed_and_one_open():
    # seed_demo runs the ratings demo as one of its steps (with its progress)
    progress = StringIO()
    call_command("seed_demo", stdout=StringIO(), stderr=progress)

    assert "rating 5/5: withdrawn" in progress.getvalue()
    assert Rating.objects.filter(round=Rating.Round.FIRST).count() == 5
    closed = RatingLoop.objects.get(status=RatingLoop.Status.CLOSED)
    assert Rating.objects.filter(follows=closed.rating).count() == 1
    assert actions.process_of(closed).status == "DONE"  # type: ignore[union-attr]
    [waiting] = selectors.rating_loop_deadlines_open()
    assert waiting.step == RatingLoop.Status.CALLBACK and waiting.handler is None
    counts = (Rating.objects.count(), RatingLoop.objects.count())

    again = StringIO()
    call_command("seed_demo_ratings", stdout=again, stderr=StringIO())

    assert (Rating.objects.count(), RatingLoop.objects.count()) == counts
    assert "0 cases rated" in again.getvalue()
