"""The warning ladder of electronic supervision (电子监察), pure: no Django, no database.

Approaching a deadline → a reminder to the handler and the responsible leader; overdue → a yellow
card (督办通知, addressed to the department, with a reply deadline); no reply, or still not done, at
that deadline → a red card (整改通知 and an accountability record). Practice: Dongguan / Zhanjiang
(see shared notes, domain practice §1.7).

Every rung is a function of stored facts read at **day boundaries**: the ladder of day ``d`` looks
at the facts as they stood at the start of ``d`` (events dated before ``d``). A sweep may run at any
hour, any number of times, late or twice at once, and raises the same cards on the same days; the
replay (``manage.py supervision_replay``) recomputes them from the same facts and finds any card
missing, extra or altered.

- A subject is *live* on day ``d`` when it was opened before ``d`` and not closed before ``d``: a step
  still open at midnight after its due day is overdue even if it is finished at nine the next morning.
- Its deadline on day ``d`` is the one known at the start of ``d`` (``dues``: each entry takes effect
  the day after it was recorded); deadlines only move later (excluded periods, extensions).
- No rung is raised on a day the clock stands still (an art. 45 period, a supplement request).
- The reminder: the first live day on which at most ``approaching_days`` working days are left.
- The yellow card: the first live day past the deadline; its reply is due ``reply_days`` working
  days later.
- The red card: the day after the reply deadline, unless by then the supervisor has settled the
  yellow card, or the department has answered and the subject is done; or earlier, the day the
  supervisor escalates. A red card never exists without its yellow one.
- A fact that is itself the irregularity (a refusal without reasons, a deemed acceptance) raises
  its yellow card on the day of the fact; there is nothing to be "still not done".
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from approvals.calendar.clock import WorkingCalendar, due_after, working_days_left

REMINDER = "reminder"
YELLOW = "yellow"
RED = "red"
LEVELS = (REMINDER, YELLOW, RED)

# triggers: why a card exists
APPROACHING = "approaching"
OVERDUE = "overdue"  # a case past its promised limit (承诺时限), or another deadline passed
STEP_OVERRUN = "step_overrun"  # a step (环节) past its own limit, whatever the case's clock says
NOT_ACCEPTED_IN_WINDOW = "not_accepted_in_window"  # the window left an application unanswered (art. 32)
STATUTORY_OVERRUN = "statutory_overrun"  # past the statutory limit (法定时限): straight to red
REFUSAL_WITHOUT_REASONS = "refusal_without_reasons"  # a 不同意 without reasons
TRIGGERS = (
    APPROACHING,
    OVERDUE,
    STEP_OVERRUN,
    NOT_ACCEPTED_IN_WINDOW,
    STATUTORY_OVERRUN,
    REFUSAL_WITHOUT_REASONS,
)

_ONE_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Rules:
    """The ladder's settings for one kind of deadline (``SUPERVISION_LADDER`` in the settings)."""

    approaching_days: int = 2
    reply_days: int = 3
    rectify_days: int = 5


@dataclass(frozen=True)
class Watched:
    """One deadline under supervision, as stored facts.

    ``dues``: ``(recorded_on, due_on)`` in the order recorded; the first entry is the deadline the
    subject was opened with. ``statutory_dues`` likewise, for a case (the graver limit).
    ``suspensions``: ``(suspended_on, resumed_on or None)``. ``answered_on``, ``settled_on`` and
    ``escalated_on`` are the days of the department's first answer to the yellow card, of the
    supervisor's accepting or closing it, and of the supervisor's escalating it, if any.
    ``irregular_on``: for a subject whose existence is the irregularity, the day of the fact."""

    subject: str  # "<type>:<id>"
    trigger: str  # the trigger of its yellow card
    opened_on: datetime.date
    closed_on: datetime.date | None = None
    dues: tuple[tuple[datetime.date, datetime.date], ...] = ()
    statutory_dues: tuple[tuple[datetime.date, datetime.date], ...] = ()
    suspensions: tuple[tuple[datetime.date, datetime.date | None], ...] = ()
    irregular_on: datetime.date | None = None
    answered_on: datetime.date | None = None
    settled_on: datetime.date | None = None
    escalated_on: datetime.date | None = None


@dataclass(frozen=True)
class Rung:
    """A card that should exist: its level, trigger, the day it is raised, the deadline it measures
    (``due_on``) and the day its answer is due (yellow and red)."""

    subject: str
    level: str
    trigger: str
    raised_on: datetime.date
    due_on: datetime.date | None
    reply_due_on: datetime.date | None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.subject, self.trigger, self.level)


def _known(dues: Sequence[tuple[datetime.date, datetime.date]], day: datetime.date) -> datetime.date | None:
    """The deadline as known at the start of ``day``: the last one recorded before it (the opening
    deadline counts from the day after the opening, when the subject becomes live)."""
    found: datetime.date | None = None
    for recorded_on, due_on in dues:
        if recorded_on < day:
            found = due_on
        else:
            break
    return found


def _suspended(watched: Watched, day: datetime.date) -> bool:
    return any(start < day and (end is None or end >= day) for start, end in watched.suspensions)


def _live(watched: Watched, day: datetime.date) -> bool:
    return watched.opened_on < day and (watched.closed_on is None or watched.closed_on >= day)


def _days(start: datetime.date, end: datetime.date) -> Iterator[datetime.date]:
    day = start
    while day <= end:
        yield day
        day += _ONE_DAY


def _fast_near(
    watched: Watched, due: datetime.date, *, today: datetime.date, n: int, calendar: WorkingCalendar
) -> tuple[datetime.date, datetime.date] | None:
    """``_first_day(test="near")`` for the usual deadline (one, never moved, the clock never
    stopped) without walking every day: the earliest day with at most ``n`` working days left,
    counted back from the deadline (``left(d - 1) = left(d) + 1`` when ``d`` is a working day)."""
    earliest, left = due, 0
    while True:
        counted = left + (1 if calendar.is_working_day(earliest, strict=False) else 0)
        if counted > n:
            break
        earliest, left = earliest - _ONE_DAY, counted
    first = max(earliest, watched.opened_on + _ONE_DAY)
    last = today if watched.closed_on is None else min(today, watched.closed_on)
    if first > min(last, due):
        return None
    return first, due


def _first_day(
    watched: Watched,
    dues: Sequence[tuple[datetime.date, datetime.date]],
    *,
    today: datetime.date,
    test: str,
    n: int,
    calendar: WorkingCalendar,
) -> tuple[datetime.date, datetime.date] | None:
    """The first live, running day up to ``today`` on which the deadline is near (``test="near"``:
    at most ``n`` working days left) or passed (``"passed"``), with the deadline it was measured on."""
    if not dues:
        return None
    if len(dues) == 1 and not watched.suspensions:
        due = dues[0][1]
        if dues[0][0] > watched.opened_on:
            pass  # a deadline recorded after the opening: walk the days
        elif test == "near":
            return _fast_near(watched, due, today=today, n=n, calendar=calendar)
        else:
            first = max(due + _ONE_DAY, watched.opened_on + _ONE_DAY)
            last_live = today if watched.closed_on is None else min(today, watched.closed_on)
            return (first, due) if first <= last_live else None
    last = today if watched.closed_on is None else min(today, watched.closed_on)
    earliest_due = min(due for _, due in dues)
    # Nothing can happen long before the earliest deadline: start a generous span before it (a
    # working-day count of n never spans more than 3n + 14 calendar days in a Chinese calendar).
    start = watched.opened_on + _ONE_DAY
    if test == "near":
        start = max(start, earliest_due - datetime.timedelta(days=3 * n + 14))
    else:
        start = max(start, earliest_due + _ONE_DAY)
    for day in _days(start, last):
        if not _live(watched, day) or _suspended(watched, day):
            continue
        known = _known(dues, day)
        if known is None:
            continue
        if test == "passed":
            if day > known:
                return day, known
        elif day <= known and working_days_left(known, today=day, calendar=calendar) <= n:
            return day, known
    return None


def ladder(watched: Watched, *, today: datetime.date, rules: Rules, calendar: WorkingCalendar) -> list[Rung]:
    """Every card ``watched`` should have by the end of ``today``, mildest first."""
    rungs: list[Rung] = []
    yellow: Rung | None = None
    if watched.irregular_on is not None:
        if watched.irregular_on <= today:
            reply = due_after(watched.irregular_on, rules.reply_days, calendar=calendar).on
            yellow = Rung(watched.subject, YELLOW, watched.trigger, watched.irregular_on, None, reply)
            rungs.append(yellow)
    else:
        near = _first_day(watched, watched.dues, today=today, test="near", n=rules.approaching_days, calendar=calendar)
        if near is not None:
            rungs.append(Rung(watched.subject, REMINDER, APPROACHING, near[0], near[1], None))
        passed = _first_day(watched, watched.dues, today=today, test="passed", n=0, calendar=calendar)
        if passed is not None:
            reply = due_after(passed[0], rules.reply_days, calendar=calendar).on
            yellow = Rung(watched.subject, YELLOW, watched.trigger, passed[0], passed[1], reply)
            rungs.append(yellow)
    if yellow is None:
        return rungs
    red = _red(watched, yellow, today=today, rules=rules, calendar=calendar)
    if red is not None:
        rungs.append(red)
    if watched.statutory_dues:
        graver = _first_day(watched, watched.statutory_dues, today=today, test="passed", n=0, calendar=calendar)
        if graver is not None and graver[0] >= yellow.raised_on:
            reply = due_after(graver[0], rules.rectify_days, calendar=calendar).on
            rungs.append(Rung(watched.subject, RED, STATUTORY_OVERRUN, graver[0], graver[1], reply))
    return rungs


def _red(
    watched: Watched, yellow: Rung, *, today: datetime.date, rules: Rules, calendar: WorkingCalendar
) -> Rung | None:
    assert yellow.reply_due_on is not None
    deadline_day = yellow.reply_due_on + _ONE_DAY
    settled = watched.settled_on is not None and watched.settled_on < deadline_day
    answered = watched.answered_on is not None and watched.answered_on < deadline_day
    # a refusal without reasons or a deemed acceptance is done with; a deadline must be met too
    done = watched.irregular_on is not None or (watched.closed_on is not None and watched.closed_on < deadline_day)
    day = None if settled or (answered and done) else deadline_day
    if watched.escalated_on is not None:
        # the supervisor escalated an answer found wanting: red from that day (never before the yellow)
        escalated = max(watched.escalated_on, yellow.raised_on)
        day = escalated if day is None else min(day, escalated)
    if day is None or day > today:
        return None
    reply = due_after(day, rules.rectify_days, calendar=calendar).on
    return Rung(watched.subject, RED, watched.trigger, day, yellow.due_on, reply)
