"""The efficiency dashboard's monthly roll-up: rolled months give the same figures as the cases
(against the independent count of test_dashboard), a mix of rolled and live months too; a change
to a rolled month's facts forgets its roll; a month is rolled only once it is complete; the job and
the command; the query count stays constant."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals.applications import close_facts
from approvals.models import Application, EfficiencyCell, EfficiencyMonth
from approvals.supervision import dashboard, rollup
from approvals.tasks import efficiency_rollup
from tests.approvals import test_dashboard
from tests.approvals.test_dashboard import PERIOD, TODAY, _build, _compare, _oracle

world = test_dashboard.world  # the same bureau and mix of cases as the dashboard's own tests

NOW = datetime.datetime(2026, 7, 15, 10, 0, tzinfo=datetime.UTC)
MARCH, APRIL, MAY = (datetime.date(2026, m, 1) for m in (3, 4, 5))


def _table(grouping: str, scope: dashboard.Scope | None = None, **kwargs) -> dashboard.Table:  # type: ignore[no-untyped-def]
    return dashboard.efficiency_table(
        scope=scope or dashboard.Scope(), period=PERIOD, grouping=grouping, today=TODAY, **kwargs
    )


def _check_against_oracle(grouping: str, **oracle_kwargs) -> None:  # type: ignore[no-untyped-def]
    scope = dashboard.Scope(
        department_ids=frozenset(oracle_kwargs["departments"]) if oracle_kwargs.get("departments") else None,
        item_id=oracle_kwargs.get("item_id"),
    )
    table = _table(grouping, scope)
    expected = _oracle(grouping, **oracle_kwargs)
    assert {row.key for row in table.rows} == set(expected)
    for row in table.rows:
        _compare(row.values, expected[row.key], table.groupable)
    _compare(table.total.values, _oracle("total", **oracle_kwargs)[""], {})


@pytest.mark.parametrize("grouping", ["department", "item", "person", "month"])
@time_machine.travel(NOW, tick=False)
def test_rolled_and_live_months_together_equal_the_independent_count(world, grouping):
    # given the cases of March–June, with March and April rolled up and May read live
    _build(world, 60)
    assert rollup.efficiency_month_roll(MARCH) > 0
    assert rollup.efficiency_month_roll(APRIL) > 0
    # then every row and the total equal the count row by row
    _check_against_oracle(grouping)
    # and with every month of the period rolled up too
    rollup.efficiency_month_roll(MAY)
    assert dashboard.rolled_months(PERIOD) == {MARCH, APRIL, MAY}
    _check_against_oracle(grouping)
    assert _table(grouping).total.values["completed"] > 10


@time_machine.travel(NOW, tick=False)
def test_rolled_figures_of_one_department_and_of_one_item(world):
    _build(world, 45)
    for month in (MARCH, APRIL, MAY):
        rollup.efficiency_month_roll(month)
    _check_against_oracle("item", departments={world.lead_b.pk})
    _check_against_oracle("month", item_id=world.items[0].item_id)


@time_machine.travel(NOW, tick=False)
def test_verify_finds_no_difference_and_finds_a_tampered_cell(world):
    _build(world, 40)
    for month in (MARCH, APRIL):
        rollup.efficiency_month_roll(month)
    assert rollup.efficiency_rollup_verify() == []

    cell = EfficiencyCell.objects.filter(source="closed", month=APRIL).order_by("pk").first()
    assert cell is not None
    EfficiencyCell.objects.filter(pk=cell.pk).update(rows=cell.rows + 1)
    differences = rollup.efficiency_rollup_verify()
    assert differences and all(line.startswith("2026-04") for line in differences)
    with pytest.raises(CommandError, match="differences"):
        call_command("efficiency_rollup", "--verify", stdout=StringIO(), stderr=StringIO())


@time_machine.travel(NOW, tick=False)
def test_changing_a_rolled_months_close_facts_forgets_its_roll(world):
    # given a rolled April
    cases = _build(world, 40)
    rollup.efficiency_month_roll(APRIL)
    closed_in_april = next(a for a in cases if a.closed_on and a.closed_on.month == 4 and a.status == "approved")
    # when the close facts of one of its cases are stored again (a backfill, a recomputation)
    Application.objects.filter(pk=closed_in_april.pk).update(working_days_taken=99)
    closed_in_april.refresh_from_db()
    close_facts.application_close_facts_store(closed_in_april)
    # then April is read from the cases again, and the figures are still right
    assert not EfficiencyMonth.objects.filter(month=APRIL).exists()
    assert not EfficiencyCell.objects.filter(month=APRIL).exists()
    _check_against_oracle("department")


@time_machine.travel(NOW, tick=False)
def test_a_fact_of_the_current_month_costs_no_query(world):
    with CaptureQueriesContext(connection) as captured:
        assert rollup.efficiency_month_touched(datetime.date(2026, 7, 3)) is False
    assert len(captured) == 0


@time_machine.travel(datetime.datetime(2026, 7, 1, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_a_month_is_rolled_only_after_the_lag(world, settings):
    settings.SUPERVISION_ROLLUP_LAG_DAYS = 2
    _build(world, 10)
    # on 1 July, June ended less than two days ago
    with pytest.raises(ValueError, match="not complete"):
        rollup.efficiency_month_roll(datetime.date(2026, 6, 1))
    assert datetime.date(2026, 6, 1) not in rollup.months_to_roll()
    assert rollup.months_to_roll()[-1] == MAY
    with time_machine.travel(datetime.datetime(2026, 7, 3, 10, 0, tzinfo=datetime.UTC), tick=False):
        assert rollup.months_to_roll()[-1] == datetime.date(2026, 6, 1)


@time_machine.travel(NOW, tick=False)
def test_the_job_rolls_every_pending_month_once(world):
    _build(world, 30)
    expected = rollup.months_to_roll()
    assert expected[0] == datetime.date(2026, 2, 1) and expected[-1] == datetime.date(2026, 6, 1)
    efficiency_rollup.apply()
    assert sorted(EfficiencyMonth.objects.values_list("month", flat=True)) == expected
    assert rollup.months_to_roll() == []
    assert rollup.efficiency_rollup_pending() == 0  # a second run finds nothing to do


@time_machine.travel(NOW, tick=False)
def test_command_shows_progress_and_refuses_a_bad_or_incomplete_month(world):
    _build(world, 20)
    out = StringIO()
    call_command("efficiency_rollup", stdout=out)
    assert "1/5 2026-02" in out.getvalue() and "months rolled up: 5" in out.getvalue()
    out = StringIO()
    call_command("efficiency_rollup", "--verify", stdout=out)
    assert "no difference" in out.getvalue()
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("efficiency_rollup", "--month", "July", stdout=StringIO())
    with pytest.raises(CommandError, match="not complete"):
        call_command("efficiency_rollup", "--month", "2026-07", stdout=StringIO())


@pytest.mark.parametrize("grouping", ["department", "person", "month"])
@time_machine.travel(NOW, tick=False)
def test_query_count_with_rolled_months_does_not_grow_with_the_data(world, grouping):
    _build(world, 8)
    for month in (MARCH, APRIL):
        rollup.efficiency_month_roll(month)
    with CaptureQueriesContext(connection) as small:
        _table(grouping)
    _build(world, 40, start=9)
    for month in (MARCH, APRIL):
        rollup.efficiency_month_roll(month)
    with CaptureQueriesContext(connection) as large:
        _table(grouping)
    assert len(large) == len(small)


def test_weighted_percentile_equals_the_expanded_one():
    histogram = {3: 2, 5: 1, 8: 4, 13: 1}
    values = sorted(v for v, n in histogram.items() for _ in range(n))  # 3 3 5 8 8 8 8 13
    for fraction, expected in ((0, 3), (0.1, 3), (0.5, 8), (0.9, 9.5), (1, 13)):
        assert dashboard.weighted_percentile(histogram, fraction) == pytest.approx(expected)
    # the 90th percentile at position 0.9 × 7 = 6.3: between values[6] = 8 and values[7] = 13
    assert values[6] + (values[7] - values[6]) * 0.3 == pytest.approx(9.5)
    assert dashboard.weighted_percentile({}, 0.5) is None
