"""Two (or four) ladder sweeps at once, and a supervisor escalating while the sweep does: every
card once, one supervision process per yellow card, one red card per yellow. Real threads on
PostgreSQL."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone
from viewflow.workflow.models import Process

from approvals.models import CardEvent, SupervisionCard
from approvals.organisation.roles import StaffRole
from tests import factories
from tests.concurrency.conftest import run_concurrently
from tests.workflows.conftest import accept, file_application, make_item
from workflows.actions import supervision_cards as actions
from workflows.supervision_flows import SupervisionCaseFlow

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

D = datetime.date


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_current_timezone())


def _cases(bureau, owner, enterprise, n: int = 3) -> None:  # type: ignore[no-untyped-def]
    version = make_item(bureau, co_review=1)
    with time_machine.travel(at(D(2026, 9, 14)), tick=False):
        for _ in range(n):
            accept(bureau, file_application(owner, enterprise, version))


@pytest.mark.parametrize("round_", range(5))
def test_four_sweeps_at_once_raise_every_card_once(bureau, owner, enterprise, round_):
    _cases(bureau, owner, enterprise)
    with time_machine.travel(at(D(2026, 9, 29), 9), tick=False):
        results = run_concurrently(*[actions.supervision_sweep for _ in range(4)])
    assert not [r for r in results if isinstance(r, Exception)], results
    # per case: step reminder, yellow, red; case reminder, yellow
    assert SupervisionCard.objects.count() == 3 * 5
    assert sum(sum(r.raised.values()) for r in results) == 3 * 5
    assert CardEvent.objects.filter(action="raised").count() == 3 * 5
    yellow = SupervisionCard.objects.filter(level="yellow")
    assert Process.objects.filter(flow_class=SupervisionCaseFlow).count() == yellow.count() == 6
    assert set(yellow.values_list("process_id", flat=True)) == set(
        Process.objects.filter(flow_class=SupervisionCaseFlow).values_list("pk", flat=True)
    )


@pytest.mark.parametrize("round_", range(5))
def test_a_supervisor_escalating_while_the_sweep_escalates_makes_one_red_card(bureau, owner, enterprise, round_):
    _cases(bureau, owner, enterprise, n=1)
    with time_machine.travel(at(D(2026, 9, 21), 9), tick=False):
        actions.supervision_sweep()
    yellow = SupervisionCard.objects.get(level="yellow")
    supervisor = factories.staff_with_role(StaffRole.SUPERVISOR)
    with time_machine.travel(at(D(2026, 9, 25), 9), tick=False):
        results = run_concurrently(
            actions.supervision_sweep,
            lambda: actions.card_escalate_and_route(
                actor=supervisor, card=SupervisionCard.objects.get(pk=yellow.pk), comment="未按期答复"
            ),
        )
    assert SupervisionCard.objects.filter(level="red", yellow=yellow).count() == 1
    assert CardEvent.objects.filter(card=yellow, action="escalated").count() == 1
    loser = [r for r in results if isinstance(r, Exception)]
    assert all(getattr(e, "code", None) == "card_state_changed" for e in loser), loser
