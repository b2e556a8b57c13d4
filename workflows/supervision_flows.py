"""SupervisionCaseFlow: one supervision case (督办) per yellow card, or per red card raised on its
own (past the statutory limit), as a viewflow process.

    raised → the department answers (explains or rectifies) → the supervisor accepts, escalates to
    red, or closes with accountability; a red card → the department reports its rectification →
    the supervisor closes with accountability.

The sweep escalates a yellow card left unanswered (or still not done) at its reply deadline: the
waiting step runs with the card escalated. Every step is a ``Handle`` run by the action that wrote
the card's change (``workflows.actions.supervision_cards``) in the same transaction; the rules (who
may act, which status may follow which) are the card services'. The artifact is the card.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock

from approvals.models import SupervisionCard

Status = SupervisionCard.Status


def _card(activation: Any) -> SupervisionCard:
    return SupervisionCard.objects.get(pk=activation.process.data["card"])


class SupervisionCaseFlow(flow.Flow):
    process_title = _("Supervision case")
    lock_impl = lock.SelectForUpdateLock(nowait=False)

    start = flow.StartHandle(this.start_process).Next(this.check_level)
    check_level = flow.If(this.is_red).Then(this.rectify).Else(this.answer)
    answer = flow.Handle(this.record).Next(this.check_answered)
    check_answered = flow.If(this.is_escalated).Then(this.rectify).Else(this.assess)
    assess = flow.Handle(this.record).Next(this.check_assessed)
    check_assessed = (
        flow.Switch().Case(this.accepted, this.is_accepted).Case(this.rectify, this.is_escalated).Default(this.closed)
    )
    rectify = flow.Handle(this.record).Next(this.conclude)
    conclude = flow.Handle(this.record).Next(this.closed)
    accepted = flow.End()
    closed = flow.End()

    def start_process(self, activation: Any, card: SupervisionCard) -> Any:
        activation.process.artifact = card
        activation.process.data = {"card": card.pk, "level": card.level}
        activation.process.save()
        return activation.process

    def record(self, activation: Any, card: SupervisionCard | None = None) -> Any:
        """The card the step acted on (a red card replaces its yellow once escalated)."""
        if card is not None and card.pk != activation.process.data.get("card"):
            activation.process.data["card"] = card.pk
            activation.process.data["level"] = card.level
            activation.process.save()
        return activation.process

    def is_red(self, activation: Any) -> bool:
        return bool(activation.process.data.get("level") == SupervisionCard.Level.RED)

    def is_escalated(self, activation: Any) -> bool:
        return self.is_red(activation) or _card(activation).status == Status.ESCALATED

    def is_accepted(self, activation: Any) -> bool:
        return _card(activation).status == Status.ACCEPTED
