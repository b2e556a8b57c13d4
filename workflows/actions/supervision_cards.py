"""The warning ladder's sweep and the card actions: the card service and the supervision case's
flow step in one transaction (``workflows.supervision_flows.SupervisionCaseFlow``)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from approvals.calendar import selectors as calendar_selectors
from approvals.models import SupervisionCard
from approvals.supervision import card_services, ladder, watch
from core.models import User
from workflows.supervision_flows import SupervisionCaseFlow

Level = SupervisionCard.Level


def _waiting(card: SupervisionCard, node: object) -> Task | None:
    if card.process_id is None:
        return None
    return Task.objects.filter(process_id=card.process_id, flow_task=node, status=STATUS.NEW).first()


def _run(card: SupervisionCard, *nodes: object, result: SupervisionCard | None = None) -> None:
    """Move the card's process past whichever of ``nodes`` it waits at."""
    for node in nodes:
        task = _waiting(card, node)
        if task is not None:
            node.run(task, card=result or card)  # type: ignore[attr-defined]
            return


def _start(card: SupervisionCard) -> None:
    process: Process = SupervisionCaseFlow.start.run(card=card)
    SupervisionCard.objects.filter(pk=card.pk).update(process_id=process.pk)
    card.process_id = process.pk


@dataclass
class SweepReport:
    raised: dict[str, int] = field(default_factory=lambda: {"reminder": 0, "yellow": 0, "red": 0})
    watched: int = 0


def supervision_sweep(
    *, today: datetime.date | None = None, progress: object = None, full: bool = False
) -> SweepReport:
    """Raise every card the ladder says should exist by ``today`` and does not (each in its own
    transaction; the unique constraint makes a second sweep at once raise nothing twice). A raised
    yellow card starts its supervision case; a red one escalates the yellow's (or, past the
    statutory limit, starts its own). ``full``: every deadline ever recorded, not only the recent
    ones (after a long outage, or for data loaded with its history, like the demo's)."""
    today = today or timezone.localdate()
    calendar = calendar_selectors.calendar_load()
    report = SweepReport()
    pending: list[tuple[watch.Target, list[ladder.Rung]]] = []
    for target in watch.targets(today=today, only_open=not full, calendar=calendar):
        report.watched += 1
        rungs = ladder.ladder(target.watched, today=today, rules=watch.rules_for(target.rules_key), calendar=calendar)
        if rungs:
            pending.append((target, rungs))
        if len(pending) >= BATCH:
            _raise_missing(pending, report, calendar.version)
            pending = []
        if progress is not None and report.watched % 10000 == 0:
            progress(report)  # type: ignore[operator]
    _raise_missing(pending, report, calendar.version)
    return report


BATCH = 1000


def _raise_missing(
    pending: list[tuple[watch.Target, list[ladder.Rung]]], report: SweepReport, calendar_version: int
) -> None:
    """Raise the rungs of a batch that no stored card has yet: one query reads the batch's cards."""
    if not pending:
        return
    by_type: dict[str, set[int]] = {}
    for target, _rungs in pending:
        by_type.setdefault(target.subject_type, set()).add(target.subject_id)
    query = Q()
    for subject_type, ids in by_type.items():
        query |= Q(subject_type=subject_type, subject_id__in=sorted(ids))
    existing = {
        (f"{subject_type}:{subject_id}", trigger, level)
        for subject_type, subject_id, trigger, level in SupervisionCard.objects.filter(query).values_list(
            "subject_type", "subject_id", "trigger", "level"
        )
    }
    for target, rungs in pending:
        for rung in rungs:
            if rung.key in existing:
                continue
            if _raise(target, rung, calendar_version):
                report.raised[rung.level] += 1


def _raise(target: watch.Target, rung: ladder.Rung, calendar_version: int) -> bool:
    with transaction.atomic():
        if rung.level == Level.RED:
            yellow = (
                SupervisionCard.objects.select_for_update()
                .filter(subject_type=target.subject_type, subject_id=target.subject_id, level=Level.YELLOW)
                .order_by("pk")
                .first()
            )
            if yellow is None:
                return False
            if rung.trigger == yellow.trigger:
                if yellow.status not in (SupervisionCard.Status.AWAITING_ANSWER, SupervisionCard.Status.ANSWERED):
                    return False
                red = card_services.card_escalate(
                    actor=None,
                    card=yellow,
                    comment="",
                    target=target,
                    on=rung.raised_on,
                )
                _run(yellow, SupervisionCaseFlow.answer, SupervisionCaseFlow.assess, result=red)
                return True
            card = card_services.card_raise(target=target, rung=rung, calendar_version=calendar_version, yellow=yellow)
            if card is None:
                return False
            _start(card)
            return True
        card = card_services.card_raise(target=target, rung=rung, calendar_version=calendar_version)
        if card is None:
            return False
        if card.level == Level.YELLOW:
            _start(card)
        return True


# --- card actions from the screens -----------------------------------------------------------------


def card_answer_and_route(*, actor: User, card: SupervisionCard, answer: str) -> SupervisionCard:
    with transaction.atomic():
        card_services.card_answer(actor=actor, card=card, answer=answer)
        _run(card, SupervisionCaseFlow.answer)
    return card


def card_rectified_and_route(*, actor: User, card: SupervisionCard, report: str) -> SupervisionCard:
    with transaction.atomic():
        card_services.card_rectified(actor=actor, card=card, report=report)
        _run(card, SupervisionCaseFlow.rectify)
    return card


def card_accept_and_route(*, actor: User, card: SupervisionCard, comment: str) -> SupervisionCard:
    with transaction.atomic():
        card_services.card_accept(actor=actor, card=card, comment=comment)
        _run(card, SupervisionCaseFlow.assess)
    return card


def card_escalate_and_route(*, actor: User, card: SupervisionCard, comment: str) -> SupervisionCard:
    with transaction.atomic():
        red = card_services.card_escalate(actor=actor, card=card, comment=comment)
        _run(card, SupervisionCaseFlow.answer, SupervisionCaseFlow.assess, result=red)
    return red


def card_close_and_route(*, actor: User, card: SupervisionCard, accountability: str, reasons: str) -> SupervisionCard:
    with transaction.atomic():
        was_answered = card.status == SupervisionCard.Status.ANSWERED
        card_services.card_close(actor=actor, card=card, accountability=accountability, reasons=reasons)
        if card.level == Level.RED:
            _run(card, SupervisionCaseFlow.conclude)
        elif was_answered:
            _run(card, SupervisionCaseFlow.assess)
        else:
            # closed before any answer: the department's step is over too
            _run(card, SupervisionCaseFlow.answer)
            _run(card, SupervisionCaseFlow.assess)
    return card
