"""Replay of the warning ladder: recompute, from the stored clock events, deadlines and the acts
recorded on the cards, with the calendar version each card was raised under, which cards should
exist today, and compare them with the cards stored. Any card missing, extra, or altered (level,
trigger, day raised, deadline measured, answer due) is a difference."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from approvals.calendar import clock
from approvals.calendar import selectors as calendar_selectors
from approvals.models import SupervisionCard
from approvals.supervision import ladder, watch


@dataclass(frozen=True)
class Difference:
    kind: str  # "missing" | "extra" | "altered"
    key: tuple[str, str, str]
    expected: str
    stored: str


def _describe(raised_on: datetime.date, due_on: datetime.date | None, reply: datetime.date | None) -> str:
    return f"raised {raised_on} due {due_on or '—'} answer {reply or '—'}"


def supervision_replay(
    *, today: datetime.date | None = None, progress: Callable[[int], None] | None = None
) -> Iterator[Difference]:
    today = today or timezone.localdate()
    calendars: dict[int | None, clock.WorkingCalendar] = {}

    def calendar_of(version: int | None) -> clock.WorkingCalendar:
        if version not in calendars:
            calendars[version] = calendar_selectors.calendar_load(version)
        return calendars[version]

    current = calendar_of(None)
    seen: set[int] = set()
    batch: list[watch.Target] = []

    def judge(targets: list[watch.Target]) -> Iterator[Difference]:
        """One query reads the stored cards of a batch of subjects."""
        by_type: dict[str, set[int]] = {}
        for target in targets:
            by_type.setdefault(target.subject_type, set()).add(target.subject_id)
        query = Q()
        for subject_type, ids in by_type.items():
            query |= Q(subject_type=subject_type, subject_id__in=sorted(ids))
        cards: dict[tuple[str, int], list[SupervisionCard]] = {}
        for card in SupervisionCard.objects.filter(query):
            cards.setdefault((card.subject_type, card.subject_id), []).append(card)
        for target in targets:
            stored = {card.key: card for card in cards.get((target.subject_type, target.subject_id), [])}
            yield from _judge_one(target, stored, today=today, current=current, calendar_of=calendar_of, seen=seen)

    for count, target in enumerate(watch.targets(today=today, only_open=False, calendar=current), start=1):
        batch.append(target)
        if len(batch) >= 1000:
            yield from judge(batch)
            batch = []
        if progress is not None and count % 10000 == 0:
            progress(count)
    yield from judge(batch)
    # a card whose subject no source knows any more
    for card in SupervisionCard.objects.order_by("pk").iterator(chunk_size=5000):
        if card.pk in seen:
            continue
        yield Difference("extra", card.key, "", _describe(card.raised_on, card.due_on, card.reply_due_on))


def _judge_one(
    target: watch.Target,
    stored: dict[tuple[str, str, str], SupervisionCard],
    *,
    today: datetime.date,
    current: clock.WorkingCalendar,
    calendar_of: Callable[[int | None], clock.WorkingCalendar],
    seen: set[int],
) -> Iterator[Difference]:
    """Each card is judged with the calendar version it was raised under (a later calendar edit
    does not make an old card wrong); a card not raised, with today's calendar."""
    rules = watch.rules_for(target.rules_key)
    by_version: dict[int, dict[tuple[str, str, str], ladder.Rung]] = {}

    def rungs_of(version: int) -> dict[tuple[str, str, str], ladder.Rung]:
        if version not in by_version:
            calendar = current if version == current.version else calendar_of(version)
            by_version[version] = {
                rung.key: rung for rung in ladder.ladder(target.watched, today=today, rules=rules, calendar=calendar)
            }
        return by_version[version]

    for key, rung in rungs_of(current.version).items():
        if key not in stored:
            yield Difference("missing", key, _describe(rung.raised_on, rung.due_on, rung.reply_due_on), "")
    for key, card in stored.items():
        seen.add(card.pk)
        found = _describe(card.raised_on, card.due_on, card.reply_due_on)
        expected_rung = rungs_of(card.calendar_version).get(key)
        if expected_rung is None:
            yield Difference("extra", key, "", found)
            continue
        expected = _describe(expected_rung.raised_on, expected_rung.due_on, expected_rung.reply_due_on)
        if found != expected:
            yield Difference("altered", key, expected, found)
