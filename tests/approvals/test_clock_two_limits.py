"""The two clocks of a case (行政许可法 arts. 42, 45): the promised deadline (承诺时限) and the
statutory one (法定时限), computed by the pure clock from the same events, and where a case stands
against them (on time, due soon, past the promised limit, past the statutory limit).

The calendar is the real one: 2025 and 2026 as the chinese-calendar package gives them (built as
``tests/approvals/test_clock.py::TestStoredCalendar`` publishes them), 2027 not entered. In 2026:
Spring Festival holidays Sun 15 – Mon 23 February with make-up working days Sat 14 and Sat 28
February; Labour Day 1–5 May with Sat 9 May worked; Mid-autumn Fri 25 September and National Day
1–7 October, with Sun 20 September and Sat 10 October worked.
"""

from __future__ import annotations

import dataclasses
import datetime
from types import SimpleNamespace as Fact

import pytest

from approvals.calendar import clock
from approvals.calendar import services as calendar_services
from approvals.calendar.clock import WorkingCalendar

D = datetime.date


def _real_calendar() -> WorkingCalendar:
    years = calendar_services.calendar_years_from_package([2025, 2026])
    assert set(years) == {2025, 2026}, "the chinese-calendar package no longer covers 2025 and 2026"
    holidays = {day for rows in years.values() for day, kind, _name in rows if kind == "holiday"}
    workdays = {day for rows in years.values() for day, kind, _name in rows if kind == "workday"}
    return WorkingCalendar(
        version=7, years=frozenset(years), holidays=frozenset(holidays), workdays=frozenset(workdays), yellow_days=2
    )


CAL = _real_calendar()


def test_the_real_calendar_has_the_days_these_cases_rely_on():
    assert {D(2026, 2, 16), D(2026, 5, 1), D(2026, 5, 5), D(2026, 9, 25), D(2026, 10, 7)} <= CAL.holidays
    assert {D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)} <= CAL.workdays


def fact(kind: str, on: datetime.date, days: int | None = None) -> Fact:
    return Fact(kind=kind, on=on, days=days)


# --- the two deadlines ---------------------------------------------------------------------------

DEADLINE_CASES = [
    pytest.param(
        # Wed 29 Apr: Thu 30 (1), Labour Day 1–5 May off, Wed 6 … Fri 8 (4), Sat 9 worked (5);
        # statutory: Mon 11 May … Fri 29 May (20)
        [fact("accepted", D(2026, 4, 29))],
        5,
        20,
        (D(2026, 5, 9), False),
        (D(2026, 5, 29), False),
        id="labour-day-holidays-and-a-make-up-saturday",
    ),
    pytest.param(
        # An art. 45 period from Thu 24 Sep to Fri 9 Oct lasts 5 working days (Mon 28, Tue 29, Wed 30
        # Sep, Thu 8, Fri 9 Oct: Mid-autumn and National Day are off), and moves both clocks by 5:
        # promised 10 + 5 from Mon 14 Sep (Sun 20 Sep worked) = Sat 10 Oct (worked), statutory
        # 20 + 5 = Fri 23 Oct.
        [
            fact("accepted", D(2026, 9, 14)),
            fact("suspended", D(2026, 9, 24)),
            fact("resumed", D(2026, 10, 9)),
        ],
        10,
        20,
        (D(2026, 10, 10), False),
        (D(2026, 10, 23), False),
        id="excluded-period-over-national-day-moves-both",
    ),
    pytest.param(
        # An approved extension of 10 (art. 42) across Spring Festival moves both clocks by 10:
        # promised 20 from Mon 2 Feb = Fri 6 Mar (Sat 14 and Sat 28 Feb worked, 15–23 Feb off),
        # statutory 30 = Fri 20 Mar.
        [fact("accepted", D(2026, 2, 2)), fact("extended", D(2026, 2, 10), days=10)],
        10,
        20,
        (D(2026, 3, 6), False),
        (D(2026, 3, 20), False),
        id="extension-over-spring-festival-moves-both",
    ),
    pytest.param(
        # The fast-track reduction is in promised_days only (10 - 7 = 3): Mon 2 Nov + 3 = Thu 5 Nov;
        # the statutory 20 is the law's: Mon 30 Nov.
        [fact("accepted", D(2026, 11, 2))],
        3,
        20,
        (D(2026, 11, 5), False),
        (D(2026, 11, 30), False),
        id="fast-track-shortens-the-promised-clock-only",
    ),
    pytest.param(
        # An open suspension moves neither clock yet.
        [fact("accepted", D(2026, 11, 2)), fact("suspended", D(2026, 11, 4))],
        10,
        20,
        (D(2026, 11, 16), False),
        (D(2026, 11, 30), False),
        id="open-suspension-moves-nothing-yet",
    ),
    pytest.param(
        # Mon 14 Dec: promised 10 = Mon 28 Dec, inside 2026; statutory 20 reaches into 2027, which
        # is not entered: weekdays only (Fri 1 Jan counted), Mon 11 Jan 2027, provisional.
        [fact("accepted", D(2026, 12, 14))],
        10,
        20,
        (D(2026, 12, 28), False),
        (D(2027, 1, 11), True),
        id="only-the-statutory-clock-reaches-an-uncovered-year",
    ),
    pytest.param(
        # A suspension from Mon 21 Dec 2026 to Tue 5 Jan 2027 counts 11 weekdays, 3 of them in the
        # uncovered 2027: both clocks are provisional. Promised 10 + 11 = Tue 12 Jan, statutory
        # 20 + 11 = Tue 26 Jan 2027.
        [
            fact("accepted", D(2026, 12, 14)),
            fact("suspended", D(2026, 12, 21)),
            fact("resumed", D(2027, 1, 5)),
        ],
        10,
        20,
        (D(2027, 1, 12), True),
        (D(2027, 1, 26), True),
        id="suspension-into-an-uncovered-year-makes-both-provisional",
    ),
]


@pytest.mark.parametrize(("events", "promised_days", "statutory_days", "promised", "statutory"), DEADLINE_CASES)
def test_both_deadlines_from_the_same_events(events, promised_days, statutory_days, promised, statutory):
    result = clock.application_deadline(
        events, promised_days=promised_days, statutory_days=statutory_days, calendar=CAL
    )
    assert (result.due.on, result.due.provisional) == promised
    assert (result.statutory_due.on, result.statutory_due.provisional) == statutory
    assert result.due.calendar_version == result.statutory_due.calendar_version == 7


def test_an_excluded_period_and_an_extension_move_both_clocks_by_the_same_working_days():
    events = [
        fact("accepted", D(2026, 9, 14)),
        fact("suspended", D(2026, 9, 24)),
        fact("resumed", D(2026, 10, 9)),
        fact("extended", D(2026, 10, 12), days=5),
    ]
    result = clock.application_deadline(events, promised_days=10, statutory_days=20, calendar=CAL)
    assert result.suspended_days == 5 and result.extension_days == 5
    assert result.due.on == clock.add_working_days(D(2026, 9, 14), 10 + 5 + 5, calendar=CAL) == D(2026, 10, 16)
    assert result.statutory_due.on == clock.add_working_days(D(2026, 9, 14), 20 + 5 + 5, calendar=CAL)
    assert result.statutory_due.on == D(2026, 10, 30)


def test_without_statutory_days_the_promised_deadline_is_computed_as_before():
    events = [fact("accepted", D(2026, 9, 14)), fact("extended", D(2026, 9, 15), days=2)]
    alone = clock.application_deadline(events, promised_days=10, calendar=CAL)
    both = clock.application_deadline(events, promised_days=10, statutory_days=20, calendar=CAL)
    assert alone.statutory_due is None
    assert alone.due == both.due
    assert dataclasses.replace(both, statutory_due=None) == alone


def test_nothing_runs_before_acceptance():
    result = clock.application_deadline(
        [fact("received", D(2026, 11, 2))], promised_days=10, statutory_days=20, calendar=CAL
    )
    assert result.state == "not_started" and result.due is None and result.statutory_due is None


# --- where a case stands -------------------------------------------------------------------------

# Promised Thu 30 Apr 2026, statutory Sat 9 May 2026 (a make-up working day after Labour Day).
PROMISED, STATUTORY = D(2026, 4, 30), D(2026, 5, 9)

STANDING_CASES = [
    # today, suspended since, closed on → state, promised days left, statutory days left
    pytest.param(D(2026, 4, 27), None, None, clock.ON_TIME, 3, 7, id="three-working-days-left-is-on-time"),
    pytest.param(D(2026, 4, 28), None, None, clock.DUE_SOON, 2, 6, id="two-working-days-left-is-due-soon"),
    pytest.param(D(2026, 4, 30), None, None, clock.DUE_SOON, 0, 4, id="the-due-day-itself-is-still-due-soon"),
    pytest.param(D(2026, 5, 1), None, None, clock.PROMISED_OVERRUN, 0, 4, id="promised-limit-passed-on-a-holiday"),
    pytest.param(D(2026, 5, 6), None, None, clock.PROMISED_OVERRUN, -1, 3, id="first-working-day-past-promised"),
    pytest.param(D(2026, 5, 9), None, None, clock.PROMISED_OVERRUN, -4, 0, id="statutory-due-day-a-make-up-saturday"),
    pytest.param(D(2026, 5, 10), None, None, clock.STATUTORY_OVERRUN, -4, 0, id="statutory-limit-passed-on-a-sunday"),
    pytest.param(D(2026, 5, 11), None, None, clock.STATUTORY_OVERRUN, -5, -1, id="past-both-statutory-wins"),
    pytest.param(
        D(2026, 5, 11), D(2026, 4, 28), None, clock.DUE_SOON, 2, 6, id="suspended-while-due-soon-stays-due-soon"
    ),
    pytest.param(
        D(2026, 5, 20), D(2026, 5, 6), None, clock.PROMISED_OVERRUN, -1, 3, id="suspended-when-late-stays-as-late"
    ),
    pytest.param(D(2026, 5, 20), None, D(2026, 4, 29), clock.ON_TIME, 1, 5, id="decided-in-time-is-never-due-soon"),
    pytest.param(
        D(2026, 6, 1), None, D(2026, 5, 11), clock.STATUTORY_OVERRUN, -5, -1, id="decided-past-the-statutory-limit"
    ),
]


@pytest.mark.parametrize(("today", "suspended_since", "closed_on", "state", "promised", "statutory"), STANDING_CASES)
def test_standing_against_the_two_limits(today, suspended_since, closed_on, state, promised, statutory):
    standing = clock.clock_standing(
        PROMISED, STATUTORY, today=today, calendar=CAL, suspended_since=suspended_since, closed_on=closed_on
    )
    assert standing.state == state
    assert (standing.promised_days_left, standing.statutory_days_left) == (promised, statutory)
    assert standing.as_of == min(d for d in (today, suspended_since, closed_on) if d)


def test_a_limit_passed_on_a_day_off_shows_no_zero_count():
    # Fri 1 May, a holiday right after the promised Thu 30 Apr: no working day lost yet, and
    # "0 working days left" would read as time left.
    standing = clock.clock_standing(PROMISED, STATUTORY, today=D(2026, 5, 1), calendar=CAL)
    assert standing.promised_days_left == 0 and standing.promised_days_shown is None
    assert standing.statutory_days_shown == 4
    on_time = clock.clock_standing(PROMISED, STATUTORY, today=D(2026, 4, 30), calendar=CAL)
    assert on_time.promised_days_shown == 0


def test_no_deadline_has_not_started_and_a_missing_statutory_deadline_still_judges_the_promise():
    assert clock.clock_standing(None, None, today=D(2026, 5, 1), calendar=CAL).state == clock.NOT_STARTED
    # a row written before the statutory column existed, not refreshed yet
    old_row = clock.clock_standing(PROMISED, None, today=D(2026, 6, 1), calendar=CAL)
    assert old_row.state == clock.PROMISED_OVERRUN and old_row.statutory_days_left is None


def test_statutory_overrun_is_graver_than_promised_overrun_and_both_are_red():
    graver = [clock.NOT_STARTED, clock.ON_TIME, clock.DUE_SOON, clock.PROMISED_OVERRUN, clock.STATUTORY_OVERRUN]
    standings = [clock.Standing(state, D(2026, 5, 1), None, None) for state in graver]
    assert [s.gravity for s in standings] == sorted(s.gravity for s in standings)
    assert [s.band for s in standings] == ["none", "green", "yellow", "red", "red"]


def test_a_running_case_has_the_same_light_as_the_existing_warning_band():
    day = D(2026, 4, 1)
    while day <= D(2026, 6, 1):
        standing = clock.clock_standing(PROMISED, STATUTORY, today=day, calendar=CAL)
        assert standing.band == clock.warning_band(PROMISED, today=day, calendar=CAL), day
        day += datetime.timedelta(days=1)
