"""Demo ratings (好差评) of the closed demo cases (``seed_demo_cases``), played through the same
actions as the screens at past days: good ratings of approved cases, one 差评 loop run to the end
and closed by the applicant's re-rating, and one 差评 loop that waits for its callback today.
Idempotent: a case that has a rating is skipped; each case is one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from approvals import permissions
from approvals.models import Application, Rating, RatingLoop
from approvals.ratings import services as rating_services
from core.models import User
from workflows.actions import ratings as actions
from workflows.management.commands.seed_demo_cases import DECIDERS, NAMESPACE, days_ago


def _levels(level: int, **overrides: int) -> dict[str, int]:
    values = {"level": level, "efficiency": level, "guide_accuracy": level, "convenience": level, "usability": level}
    values.update(overrides)
    return values


def _worker(application: Application) -> User:
    """Who works the lead department's loops in the demo: its decision maker."""
    department = application.item_version.lead_department
    username = DECIDERS.get(department.code)
    user = User.objects.filter(username=username).first() if username else None
    return user or permissions.rating_loop_staff(department=department).first()  # type: ignore[return-value]


class Command(BaseCommand):
    help = "Rate the closed demo cases, with one bad-rating loop closed and one open (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        cases: list[tuple[str, Callable[[Application], object]]] = [
            ("approved", lambda a: self.rate(a, 5, comment="材料一次提交即受理，审批比承诺时限提前完成。")),
            ("approved_agency", lambda a: self.rate(a, 4, guide_accuracy=3)),
            ("revoked", lambda a: self.rate(a, 3, comment="办理较快，但办事指南对图纸要求说明不够清楚。")),
            ("refused", self.loop_closed_by_rerating),
            ("withdrawn", self.loop_waiting_for_callback),
        ]
        created = 0
        for number, (name, play) in enumerate(cases, start=1):
            application = (
                Application.objects.select_related("item_version__lead_department")
                .filter(idempotency_key=uuid.uuid5(NAMESPACE, name))
                .first()
            )
            if application is None:
                self.stderr.write(f"  rating {number}/{len(cases)}: {name} — no such demo case (run seed_demo_cases)\n")
                continue
            if Rating.objects.filter(application=application).exists():
                continue
            with transaction.atomic():
                play(application)
            created += 1
            self.stderr.write(f"  rating {number}/{len(cases)}: {name}\n")
        self.stdout.write(f"[ratings] demo ratings: {created} cases rated")

    def rate(self, application: Application, level: int, *, comment: str = "", **overrides: int) -> Rating:
        return actions.rating_give_and_start(
            actor=application.applicant, application=application, comment=comment, **_levels(level, **overrides)
        )

    def loop_closed_by_rerating(self, application: Application) -> None:
        """Rated 非常不满意 five days ago; called back, verified, rectified and replied to day by day;
        rated again today."""
        worker = _worker(application)
        with days_ago(5):
            self.rate(application, 1, comment="不予许可的理由未当面说明，多次电话咨询无人接听。", convenience=2)
        loop = RatingLoop.objects.get(application=application)
        with days_ago(4):
            rating_services.rating_loop_claim(actor=worker, loop=loop)
            actions.rating_loop_call_back_and_route(
                actor=worker,
                loop=loop,
                contacted_at=timezone.now(),
                channel=RatingLoop.Channel.PHONE,
                notes="电话回访申请人：反映咨询电话长时间无人接听，对不予许可的理由有疑问。已当场解释检测结论。",
            )
        with days_ago(3):
            actions.rating_loop_verify_and_route(
                actor=worker, loop=loop, confirmed=True, findings="经查咨询电话在午间无人值守，情况属实。"
            )
        with days_ago(2):
            actions.rating_loop_rectify_and_route(
                actor=worker,
                loop=loop,
                rectification="咨询电话实行午间轮班值守；不予许可决定书增加整改建议一栏。",
                nothing_to_rectify=False,
            )
        with days_ago(1):
            actions.rating_loop_reply_and_route(
                actor=worker,
                loop=loop,
                reply="您反映的咨询电话无人接听问题属实，已实行午间轮班值守，并在决定书中增加整改建议。感谢您的监督。",
            )
        self.rate(application, 4, comment="回访及时，问题已整改。")

    def loop_waiting_for_callback(self, application: Application) -> None:
        """Rated 不满意 today: the loop waits for its callback (due the next working day)."""
        self.rate(application, 2, comment="撤回申请后材料退还流程不清楚。", efficiency=3)
