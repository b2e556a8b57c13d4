"""The warning ladder, pure: which cards exist on which day, over the real 2026 calendar (from the
chinese-calendar package: Mid-Autumn Fri 25 Sep, National Day Thu 1 – Wed 7 Oct, make-up working
days Sun 20 Sep and Sat 10 Oct)."""

from __future__ import annotations

import datetime

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from approvals.calendar.clock import WorkingCalendar
from approvals.supervision import ladder
from approvals.supervision.ladder import RED, REMINDER, YELLOW, Rules, Watched

D = datetime.date
_SPAN = (D(2026, 1, 1), D(2026, 12, 31))
CAL = WorkingCalendar(
    version=7,
    years=frozenset({2026}),
    holidays=frozenset(chinese_calendar.get_holidays(*_SPAN, include_weekends=False)),
    workdays=frozenset(d for d in chinese_calendar.get_workdays(*_SPAN, include_weekends=True) if d.weekday() >= 5),
)
RULES = Rules(approaching_days=2, reply_days=3, rectify_days=5)


def test_the_calendar_is_the_real_one():
    assert D(2026, 9, 25) in CAL.holidays and D(2026, 10, 1) in CAL.holidays and D(2026, 10, 7) in CAL.holidays
    assert D(2026, 9, 20) in CAL.workdays and D(2026, 10, 10) in CAL.workdays


def step(**facts: object) -> Watched:
    base: dict[str, object] = {
        "subject": "step:1",
        "trigger": ladder.STEP_OVERRUN,
        "opened_on": D(2026, 9, 21),
        "dues": ((D(2026, 9, 21), D(2026, 9, 30)),),
    }
    base.update(facts)
    return Watched(**base)  # type: ignore[arg-type]


def cards(watched: Watched, today: datetime.date) -> list[tuple[str, str, datetime.date, datetime.date | None]]:
    return [
        (rung.level, rung.trigger, rung.raised_on, rung.reply_due_on)
        for rung in ladder.ladder(watched, today=today, rules=RULES, calendar=CAL)
    ]


# (name, facts, today, expected cards)
TABLE = [
    ("before anything", {}, D(2026, 9, 25), []),
    # Mon 28 Sep: 29 and 30 Sep left (2) — the holiday 25 Sep and the weekend are not counted
    ("reminder two working days before", {}, D(2026, 9, 28), [(REMINDER, "approaching", D(2026, 9, 28), None)]),
    # overdue from Thu 1 Oct (a holiday: the fact is dated when it became true); the answer is due
    # 3 working days later: Thu 8, Fri 9, Sat 10 (make-up day)
    (
        "yellow the day after the deadline",
        {},
        D(2026, 10, 1),
        [(REMINDER, "approaching", D(2026, 9, 28), None), (YELLOW, "step_overrun", D(2026, 10, 1), D(2026, 10, 10))],
    ),
    (
        "no red on the answer's last day",
        {},
        D(2026, 10, 10),
        [(REMINDER, "approaching", D(2026, 9, 28), None), (YELLOW, "step_overrun", D(2026, 10, 1), D(2026, 10, 10))],
    ),
    # no answer by Sat 10 Oct: red on Sun 11, rectification due Mon 12 + 5 working days = Fri 16
    (
        "red when unanswered",
        {},
        D(2026, 10, 11),
        [
            (REMINDER, "approaching", D(2026, 9, 28), None),
            (YELLOW, "step_overrun", D(2026, 10, 1), D(2026, 10, 10)),
            (RED, "step_overrun", D(2026, 10, 11), D(2026, 10, 16)),
        ],
    ),
    (
        "answered and done in time: no red",
        {"answered_on": D(2026, 10, 9), "closed_on": D(2026, 10, 9)},
        D(2026, 10, 30),
        [(REMINDER, "approaching", D(2026, 9, 28), None), (YELLOW, "step_overrun", D(2026, 10, 1), D(2026, 10, 10))],
    ),
    (
        "answered but still not done: red",
        {"answered_on": D(2026, 10, 9)},
        D(2026, 10, 30),
        [
            (REMINDER, "approaching", D(2026, 9, 28), None),
            (YELLOW, "step_overrun", D(2026, 10, 1), D(2026, 10, 10)),
            (RED, "step_overrun", D(2026, 10, 11), D(2026, 10, 16)),
        ],
    ),
    (
        "done on the day the answer was due but answered a day late: red",
        {"answered_on": D(2026, 10, 11), "closed_on": D(2026, 10, 10)},
        D(2026, 10, 30),
        [
            (REMINDER, "approaching", D(2026, 9, 28), None),
            (YELLOW, "step_overrun", D(2026, 10, 1), D(2026, 10, 10)),
            (RED, "step_overrun", D(2026, 10, 11), D(2026, 10, 16)),
        ],
    ),
    (
        "settled by the supervisor before the deadline: no red",
        {"answered_on": D(2026, 10, 8), "settled_on": D(2026, 10, 10)},
        D(2026, 10, 30),
        [(REMINDER, "approaching", D(2026, 9, 28), None), (YELLOW, "step_overrun", D(2026, 10, 1), D(2026, 10, 10))],
    ),
    # escalated on Thu 8 Oct: red that day; rectification due 9, 10, 12, 13, 14 → Wed 14
    (
        "escalated by the supervisor",
        {"answered_on": D(2026, 10, 8), "escalated_on": D(2026, 10, 8)},
        D(2026, 10, 30),
        [
            (REMINDER, "approaching", D(2026, 9, 28), None),
            (YELLOW, "step_overrun", D(2026, 10, 1), D(2026, 10, 10)),
            (RED, "step_overrun", D(2026, 10, 8), D(2026, 10, 14)),
        ],
    ),
    (
        "done the day before the deadline: reminder only",
        {"closed_on": D(2026, 9, 29)},
        D(2026, 10, 30),
        [(REMINDER, "approaching", D(2026, 9, 28), None)],
    ),
    (
        "done on the due day: no yellow",
        {"closed_on": D(2026, 9, 30)},
        D(2026, 10, 30),
        [(REMINDER, "approaching", D(2026, 9, 28), None)],
    ),
    (
        "done the morning after the due day: still overdue at midnight",
        {"closed_on": D(2026, 10, 1), "answered_on": D(2026, 10, 2)},
        D(2026, 10, 30),
        [(REMINDER, "approaching", D(2026, 9, 28), None), (YELLOW, "step_overrun", D(2026, 10, 1), D(2026, 10, 10))],
    ),
    (
        "done late and the card never answered: red (the department must reply)",
        {"closed_on": D(2026, 10, 1)},
        D(2026, 10, 30),
        [
            (REMINDER, "approaching", D(2026, 9, 28), None),
            (YELLOW, "step_overrun", D(2026, 10, 1), D(2026, 10, 10)),
            (RED, "step_overrun", D(2026, 10, 11), D(2026, 10, 16)),
        ],
    ),
    # an excluded period from Thu 24 Sep to Fri 9 Oct: no rung while it runs; 5 working days
    # (28, 29, 30 Sep, 8, 9 Oct) move the deadline from 30 Sep to Tue 13 Oct, known from Sat 10
    (
        "suspension: nothing while the clock stands still, the moved deadline after",
        {
            "suspensions": ((D(2026, 9, 24), D(2026, 10, 9)),),
            "dues": ((D(2026, 9, 21), D(2026, 9, 30)), (D(2026, 10, 9), D(2026, 10, 13))),
        },
        D(2026, 10, 14),
        [(REMINDER, "approaching", D(2026, 10, 10), None), (YELLOW, "step_overrun", D(2026, 10, 14), D(2026, 10, 19))],
    ),
    (
        "a suspension still open holds the ladder",
        {"suspensions": ((D(2026, 9, 24), None),)},
        D(2026, 11, 30),
        [],
    ),
    # a refusal without reasons on Fri 9 Oct: yellow that day, answer due 10, 12, 13 → Tue 13
    (
        "an irregular fact raises its yellow card on its day",
        {"trigger": ladder.REFUSAL_WITHOUT_REASONS, "irregular_on": D(2026, 10, 9), "dues": ()},
        D(2026, 10, 13),
        [(YELLOW, "refusal_without_reasons", D(2026, 10, 9), D(2026, 10, 13))],
    ),
    (
        "an irregular fact answered in time needs nothing more",
        {
            "trigger": ladder.REFUSAL_WITHOUT_REASONS,
            "irregular_on": D(2026, 10, 9),
            "dues": (),
            "answered_on": D(2026, 10, 12),
        },
        D(2026, 11, 30),
        [(YELLOW, "refusal_without_reasons", D(2026, 10, 9), D(2026, 10, 13))],
    ),
    (
        "an irregular fact left unanswered turns red",
        {"trigger": ladder.REFUSAL_WITHOUT_REASONS, "irregular_on": D(2026, 10, 9), "dues": ()},
        D(2026, 10, 14),
        [
            (YELLOW, "refusal_without_reasons", D(2026, 10, 9), D(2026, 10, 13)),
            (RED, "refusal_without_reasons", D(2026, 10, 14), D(2026, 10, 21)),
        ],
    ),
]


@pytest.mark.parametrize(("name", "facts", "today", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_which_cards_exist_on_which_day(name, facts, today, expected):
    assert cards(step(**facts), today) == expected


def test_a_case_past_its_statutory_limit_gets_a_red_card_of_its_own():
    # promised 30 Sep, statutory Wed 14 Oct; answered and done nothing
    case = Watched(
        subject="case:9",
        trigger=ladder.OVERDUE,
        opened_on=D(2026, 9, 14),
        dues=((D(2026, 9, 14), D(2026, 9, 30)),),
        statutory_dues=((D(2026, 9, 14), D(2026, 10, 14)),),
        answered_on=D(2026, 10, 8),
    )
    got = cards(case, D(2026, 10, 15))
    # statutory overrun on Thu 15 Oct: its rectification due 16, 19, 20, 21, 22 → Thu 22
    assert got == [
        (REMINDER, "approaching", D(2026, 9, 28), None),
        (YELLOW, "overdue", D(2026, 10, 1), D(2026, 10, 10)),
        (RED, "overdue", D(2026, 10, 11), D(2026, 10, 16)),
        (RED, "statutory_overrun", D(2026, 10, 15), D(2026, 10, 22)),
    ]


def test_a_red_card_never_comes_without_its_yellow():
    for _name, facts, today, _expected in TABLE:
        got = cards(step(**facts), today)
        levels = [level for level, *_ in got]
        if RED in levels:
            assert YELLOW in levels and levels.index(YELLOW) < levels.index(RED)


days = st.integers(min_value=0, max_value=60).map(lambda n: D(2026, 9, 1) + datetime.timedelta(days=n))


@given(opened=days, due_offset=st.integers(0, 30), closed_offset=st.none() | st.integers(0, 60), today=days)
def test_the_ladder_only_grows_with_time_and_never_looks_ahead(opened, due_offset, closed_offset, today):
    due = opened + datetime.timedelta(days=due_offset)
    closed = None if closed_offset is None else opened + datetime.timedelta(days=closed_offset)
    watched = Watched(subject="x:1", trigger=ladder.OVERDUE, opened_on=opened, closed_on=closed, dues=((opened, due),))
    now = ladder.ladder(watched, today=today, rules=RULES, calendar=CAL)
    later = ladder.ladder(watched, today=today + datetime.timedelta(days=20), rules=RULES, calendar=CAL)
    # what exists today still exists, unchanged, twenty days on (a card is a fact of its day)
    assert set(now) <= set(later)
    assert all(rung.raised_on <= today for rung in now)
    assert all(rung.raised_on > opened for rung in now)


@given(
    opened=days,
    due_offset=st.integers(0, 40),
    closed_offset=st.none() | st.integers(0, 70),
    today=days,
    n=st.integers(0, 6),
)
def test_the_shortcut_for_a_plain_deadline_agrees_with_walking_every_day(opened, due_offset, closed_offset, today, n):
    due = opened + datetime.timedelta(days=due_offset)
    closed = None if closed_offset is None else opened + datetime.timedelta(days=closed_offset)
    plain = Watched(subject="x:1", trigger=ladder.OVERDUE, opened_on=opened, closed_on=closed, dues=((opened, due),))
    # a suspension far in the future changes nothing but takes the day-by-day path
    walked = Watched(**{**plain.__dict__, "suspensions": ((D(2099, 1, 1), D(2099, 1, 2)),)})
    rules = Rules(approaching_days=n, reply_days=3, rectify_days=5)
    assert ladder.ladder(plain, today=today, rules=rules, calendar=CAL) == ladder.ladder(
        walked, today=today, rules=rules, calendar=CAL
    )
