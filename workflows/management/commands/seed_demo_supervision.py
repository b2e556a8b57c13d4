"""The demo's supervision cards (issue 13): the warning ladder swept over the demo's aged cases, then
a yellow card answered and accepted, and a red card rectified and closed with accountability —
through the same actions as the screens. Idempotent: a second run raises nothing new and acts on
no card twice."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from approvals.models import CardEvent, SupervisionCard
from approvals.supervision.card_notices import department_people
from core.models import User
from workflows.actions import supervision_cards as actions

Status = SupervisionCard.Status


class Command(BaseCommand):
    help = "Sweep the warning ladder over the demo cases and work two cards through (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        supervisor = User.objects.filter(username="supervisor1").first()
        self.stdout.write("[1/3] warning ladder sweep …")
        # the demo's cases were entered with their history at once: the sweep looks at all of it
        report = actions.supervision_sweep(
            full=True, progress=lambda r: self.stdout.write(f"      … {r.watched} deadlines watched")
        )
        raised = report.raised
        self.stdout.write(
            f"[1/3] warning ladder: {report.watched} deadlines watched, {raised['reminder']} reminders, "
            f"{raised['yellow']} yellow and {raised['red']} red cards raised"
        )
        if supervisor is None:
            self.stdout.write("no supervisor1 account: the cards are not worked")
            return
        self.stdout.write(f"[2/3] a yellow card answered and accepted: {self.answer_and_accept(supervisor)}")
        self.stdout.write(f"[3/3] a red card rectified and closed: {self.rectify_and_close(supervisor)}")

    def _answerer(self, card: SupervisionCard) -> User | None:
        people = sorted(department_people(card), key=lambda user: user.username)
        return people[0] if people else None

    def answer_and_accept(self, supervisor: User) -> str:
        if CardEvent.objects.filter(action=CardEvent.Action.ACCEPTED).exists():
            return "already there"
        card = (
            SupervisionCard.objects.filter(level="yellow", status=Status.AWAITING_ANSWER, department__isnull=False)
            .order_by("-reply_due_on", "pk")
            .first()
        )
        if card is None or (answerer := self._answerer(card)) is None:
            return "no yellow card awaiting an answer"
        actions.card_answer_and_route(
            actor=answerer, card=card, answer="经查，承办人因病休假未及时移交；已指定AB岗人员接办，当日办结。"
        )
        actions.card_accept_and_route(actor=supervisor, card=card, comment="说明属实，整改到位，予以认可。")
        return f"{card.subject_label}"

    def rectify_and_close(self, supervisor: User) -> str:
        if CardEvent.objects.filter(action=CardEvent.Action.CLOSED, card__level="red").exists():
            return "already there"
        red = (
            SupervisionCard.objects.filter(level="red", status=Status.AWAITING_RECTIFICATION, department__isnull=False)
            .order_by("pk")
            .first()
        )
        if red is None:
            yellow = (
                SupervisionCard.objects.filter(level="yellow", status=Status.AWAITING_ANSWER, department__isnull=False)
                .order_by("pk")
                .first()
            )
            if yellow is None:
                return "no card to escalate"
            red = actions.card_escalate_and_route(actor=supervisor, card=yellow, comment="逾期未答复督办通知。")
        answerer = self._answerer(red)
        if answerer is None:
            return "nobody in the department"
        actions.card_rectified_and_route(
            actor=answerer, card=red, report="已完成审查；建立超期预警每日通报制度，责任人作出书面检查。"
        )
        actions.card_close_and_route(
            actor=supervisor,
            card=red,
            accountability=SupervisionCard.Accountability.CRITICISM,
            reasons="超过时限未办结且未按期答复督办，对承办人批评教育。",
        )
        return f"{red.subject_label}"
