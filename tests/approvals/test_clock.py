"""The working-day calendar and the statutory clock."""

import datetime
from types import SimpleNamespace as Fact

import pytest

from approvals.calendar import clock
from approvals.calendar import selectors as calendar_selectors
from approvals.calendar import services as calendar_services
from approvals.calendar.clock import WorkingCalendar
from approvals.calendar.selectors import CalendarNotPublished, add_working_days, working_days_between
from approvals.models import CalendarYear

D = datetime.date

# 2026 from the chinese-calendar package: National Day holidays 1–7 October (Thu 1 – Wed 7;
# the 8th is a Thursday working day), make-up working days Sun 27 Sep and Sat 10 Oct.
CAL_2026 = WorkingCalendar(
    version=1,
    years=frozenset({2026}),
    holidays=frozenset(D(2026, 10, d) for d in range(1, 8)) | {D(2026, 1, 1), D(2026, 1, 2)},
    workdays=frozenset({D(2026, 9, 27), D(2026, 10, 10), D(2026, 1, 4)}),
)


def test_weekend_is_skipped_and_start_day_is_not_counted():
    # Fri 2026-11-27 + 1 working day = Mon 2026-11-30
    assert add_working_days(D(2026, 11, 27), 1, calendar=CAL_2026) == D(2026, 11, 30)
    assert add_working_days(D(2026, 11, 27), 0, calendar=CAL_2026) == D(2026, 11, 27)
    assert add_working_days(D(2026, 11, 23), 5, calendar=CAL_2026) == D(2026, 11, 30)


def test_holidays_are_skipped_and_make_up_days_count():
    # Fri 25 Sep + 1 → Sun 27 Sep is a make-up working day
    assert add_working_days(D(2026, 9, 25), 1, calendar=CAL_2026) == D(2026, 9, 27)
    # Wed 30 Sep + 1 → the holidays 1–7 Oct are skipped → Thu 8 Oct
    assert add_working_days(D(2026, 9, 30), 1, calendar=CAL_2026) == D(2026, 10, 8)
    # Thu 8, Fri 9, Sat 10 (make-up) → 3 working days
    assert add_working_days(D(2026, 10, 7), 3, calendar=CAL_2026) == D(2026, 10, 10)


def test_working_days_between_counts_start_exclusive_end_inclusive():
    assert working_days_between(D(2026, 11, 27), D(2026, 11, 30), calendar=CAL_2026) == 1
    assert working_days_between(D(2026, 9, 30), D(2026, 10, 8), calendar=CAL_2026) == 1
    assert working_days_between(D(2026, 10, 8), D(2026, 10, 8), calendar=CAL_2026) == 0
    assert working_days_between(D(2026, 10, 9), D(2026, 10, 8), calendar=CAL_2026) == 0


def test_add_and_between_are_inverse():
    start = D(2026, 9, 20)
    for days in range(0, 40):
        end = add_working_days(start, days, calendar=CAL_2026)
        assert working_days_between(start, end, calendar=CAL_2026) == days


def test_uncovered_year_raises_naming_the_year():
    with pytest.raises(CalendarNotPublished) as excinfo:
        add_working_days(D(2026, 12, 30), 5, calendar=CAL_2026)
    assert excinfo.value.code == "calendar_not_published"
    assert excinfo.value.year == 2027
    assert "2027" in str(excinfo.value.message)
    with pytest.raises(CalendarNotPublished):
        working_days_between(D(2026, 12, 30), D(2027, 1, 5), calendar=CAL_2026)


def test_due_after_is_provisional_across_an_uncovered_year():
    due = clock.due_after(D(2026, 12, 30), 5, calendar=CAL_2026)
    # Thu 31 Dec, then weekdays only in 2027: Fri 1 Jan, Mon 4, Tue 5, Wed 6
    assert due == clock.Due(D(2027, 1, 6), True, 1)
    assert clock.due_after(D(2026, 11, 27), 2, calendar=CAL_2026).provisional is False


def fact(kind, on, days=None):
    return Fact(kind=kind, on=on, days=days)


def test_deadline_not_started_before_acceptance():
    result = clock.application_deadline([fact("received", D(2026, 11, 2))], promised_days=10, calendar=CAL_2026)
    assert result.state == "not_started" and result.due is None


def test_deadline_from_acceptance():
    events = [fact("received", D(2026, 11, 2)), fact("accepted", D(2026, 11, 3))]
    result = clock.application_deadline(events, promised_days=10, calendar=CAL_2026)
    assert result.due.on == D(2026, 11, 17)
    assert result.state == "running"


def test_suspension_moves_deadline_by_working_days_suspended():
    events = [
        fact("accepted", D(2026, 11, 3)),
        fact("suspended", D(2026, 11, 6)),  # Friday
        fact("resumed", D(2026, 11, 13)),  # next Friday: 5 working days
    ]
    result = clock.application_deadline(events, promised_days=10, calendar=CAL_2026)
    assert result.suspended_days == 5
    assert result.due.on == add_working_days(D(2026, 11, 17), 5, calendar=CAL_2026)


def test_suspension_over_a_weekend_only_moves_nothing():
    events = [fact("accepted", D(2026, 11, 3)), fact("suspended", D(2026, 11, 6)), fact("resumed", D(2026, 11, 8))]
    result = clock.application_deadline(events, promised_days=10, calendar=CAL_2026)
    assert result.suspended_days == 0
    assert result.due.on == D(2026, 11, 17)


def test_suspension_over_holidays_counts_only_working_days():
    events = [fact("accepted", D(2026, 9, 21)), fact("suspended", D(2026, 9, 30)), fact("resumed", D(2026, 10, 9))]
    result = clock.application_deadline(events, promised_days=10, calendar=CAL_2026)
    assert result.suspended_days == 2  # Thu 8 and Fri 9 October


def test_open_suspension_is_reported_and_does_not_move_yet():
    events = [fact("accepted", D(2026, 11, 3)), fact("suspended", D(2026, 11, 6))]
    result = clock.application_deadline(events, promised_days=10, calendar=CAL_2026)
    assert result.state == "suspended"
    assert result.suspended_since == D(2026, 11, 6)
    assert result.due.on == D(2026, 11, 17)


def test_extension_adds_working_days():
    events = [fact("accepted", D(2026, 11, 3)), fact("extended", D(2026, 11, 10), days=10)]
    result = clock.application_deadline(events, promised_days=10, calendar=CAL_2026)
    assert result.extension_days == 10
    assert result.due.on == add_working_days(D(2026, 11, 3), 20, calendar=CAL_2026)


def test_warning_bands():
    due = D(2026, 11, 30)  # Monday
    assert clock.warning_band(due, today=D(2026, 11, 20), calendar=CAL_2026) == "green"
    assert clock.warning_band(due, today=D(2026, 11, 26), calendar=CAL_2026) == "yellow"  # Fri 27, Mon 30 left
    assert clock.warning_band(due, today=D(2026, 11, 30), calendar=CAL_2026) == "yellow"
    assert clock.warning_band(due, today=D(2026, 12, 1), calendar=CAL_2026) == "red"
    assert clock.warning_band(None, today=D(2026, 12, 1), calendar=CAL_2026) == "none"


@pytest.mark.django_db
class TestStoredCalendar:
    def test_import_from_package_and_strict_functions(self):
        years = calendar_services.calendar_years_from_package([2025, 2026])
        for year, days in years.items():
            calendar_services.calendar_year_publish(
                actor=None, year=year, days=days, source=CalendarYear.Source.PACKAGE
            )
        # 2026: National Day holidays 1–7 October, Sat 10 October a make-up working day
        assert add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
        assert working_days_between(D(2026, 9, 30), D(2026, 10, 10)) == 3
        assert add_working_days(D(2026, 9, 25), 1) == D(2026, 9, 28)  # Sat 26 / Sun 27 Sep are off
        with pytest.raises(CalendarNotPublished):
            add_working_days(D(2026, 12, 28), 10)

    def test_calendar_edit_leaves_old_version_reproducible(self):
        v1 = calendar_services.calendar_year_publish(actor=None, year=2026, days=[], source=CalendarYear.Source.MANUAL)
        before = add_working_days(D(2026, 11, 27), 3, calendar=calendar_selectors.calendar_load(v1.number))
        v2 = calendar_services.calendar_day_set(
            actor=None, day=D(2026, 11, 30), kind="holiday", name="临时", note="test"
        )
        after = add_working_days(D(2026, 11, 27), 3)
        assert before == D(2026, 12, 2)
        assert after == D(2026, 12, 3)
        # The old deadline is reproduced with the version it recorded.
        assert add_working_days(D(2026, 11, 27), 3, calendar=calendar_selectors.calendar_load(v1.number)) == before
        calendar_services.calendar_day_clear(actor=None, day=D(2026, 11, 30), note="undo")
        assert add_working_days(D(2026, 11, 27), 3) == before
        assert calendar_selectors.calendar_load(v2.number).holidays == frozenset({D(2026, 11, 30)})

    def test_year_published_twice_refused(self):
        calendar_services.calendar_year_publish(actor=None, year=2026, days=[])
        with pytest.raises(calendar_services.CalendarError) as excinfo:
            calendar_services.calendar_year_publish(actor=None, year=2026, days=[])
        assert excinfo.value.code == "year_already_published"
