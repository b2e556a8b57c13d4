"""Helpers of the 好差评 tests: a finished case of the small bureau, the five levels, a loop run to
a given step."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from approvals.models import Application, Rating, RatingLoop
from core.models import User
from tests.workflows.conftest import Bureau, accept, file_application, make_item, only_task, review_all
from workflows.actions import applications as application_actions
from workflows.actions import ratings as actions


def levels(level: int, **overrides: int) -> dict[str, int]:
    values = {"level": level, "efficiency": level, "guide_accuracy": level, "convenience": level, "usability": level}
    values.update(overrides)
    return values


def withdrawn_case(bureau: Bureau, owner: User, enterprise: Any, **item: Any) -> Application:
    application = file_application(owner, enterprise, make_item(bureau, co_review=0, **item))
    return application_actions.application_withdraw_and_cancel(actor=owner, application=application, reason="撤回")


def approved_case(bureau: Bureau, owner: User, enterprise: Any) -> Application:
    application = file_application(owner, enterprise, make_item(bureau, co_review=1))
    accept(bureau, application)
    review_all(bureau, application)
    task = only_task(application, "decide")
    application_actions.task_claim(actor=bureau.decider, task=task)
    application_actions.decide_complete(actor=bureau.decider, task=task, outcome="approved")
    application.refresh_from_db()
    return application


def rate(owner: User, application: Application, level: int, comment: str = "", **overrides: int) -> Rating:
    return actions.rating_give_and_start(
        actor=owner, application=application, comment=comment, **levels(level, **overrides)
    )


def loop_to(loop: RatingLoop, actor: User, step: str, *, confirmed: bool = True) -> RatingLoop:
    """Run ``loop`` (taken up by ``actor``) on from where it is up to the status ``step``."""
    from approvals.ratings import services

    Status = RatingLoop.Status  # noqa: N806
    loop.refresh_from_db()
    if loop.handler_id != actor.pk:
        services.rating_loop_claim(actor=actor, loop=loop)
    while loop.status != step:
        if loop.status == Status.CALLBACK:
            actions.rating_loop_call_back_and_route(
                actor=actor,
                loop=loop,
                contacted_at=timezone.now(),
                channel="phone",
                notes="电话回访，申请人反映等待时间长",
            )
        elif loop.status == Status.VERIFY:
            actions.rating_loop_verify_and_route(actor=actor, loop=loop, confirmed=confirmed, findings="经核实属实")
        elif loop.status == Status.RECTIFY:
            actions.rating_loop_rectify_and_route(
                actor=actor, loop=loop, rectification="调整窗口排班", nothing_to_rectify=not confirmed
            )
        else:
            actions.rating_loop_reply_and_route(actor=actor, loop=loop, reply="已整改，感谢您的监督。")
        loop.refresh_from_db()
    return loop
