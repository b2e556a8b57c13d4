import datetime
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.dates import add_months, utc_text


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (datetime.date(2026, 1, 31), 1, datetime.date(2026, 2, 28)),
        (datetime.date(2028, 1, 31), 1, datetime.date(2028, 2, 29)),
        (datetime.date(2026, 11, 30), 3, datetime.date(2027, 2, 28)),
        (datetime.date(2026, 3, 15), -3, datetime.date(2025, 12, 15)),
        (datetime.date(2026, 5, 31), 12, datetime.date(2027, 5, 31)),
    ],
)
def test_add_months_caps_the_day_at_the_months_end(day, months, expected):
    assert add_months(day, months) == expected


def test_add_months_keeps_time_and_zone():
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    moment = datetime.datetime(2026, 8, 31, 23, 30, tzinfo=shanghai)
    assert add_months(moment, 6) == datetime.datetime(2027, 2, 28, 23, 30, tzinfo=shanghai)


@given(st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2900, 1, 1)), st.integers(0, 1200))
def test_add_months_lands_in_the_right_month(day, months):
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day == day.day or result.day < day.day


def test_utc_text_refuses_naive_times_and_writes_z():
    with pytest.raises(ValueError):
        utc_text(datetime.datetime(2026, 1, 1))
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    assert utc_text(datetime.datetime(2026, 1, 1, 8, tzinfo=shanghai)) == "2026-01-01T00:00:00.000000Z"
