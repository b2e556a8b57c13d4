"""好差评: the rating service and ``BadRatingFlow`` in one transaction. A bad first rating starts
the flow with the loop it opened; each step of the loop runs its service and then the flow's
Handle for that step, under the flow's process lock. Screens, the demo seed and the tests all go
through these functions."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from approvals.models import Application, Rating, RatingLoop
from approvals.ratings import services
from core.exceptions import DomainError
from core.models import User
from workflows.rating_flows import NODE_OF_STATUS, BadRatingFlow


def process_of(loop: RatingLoop) -> Process | None:
    """The flow process that routes ``loop``."""
    return Process.objects.filter(flow_class=BadRatingFlow, artifact_object_id=loop.pk).order_by("-pk").first()


def rating_give_and_start(
    *,
    actor: User,
    application: Application,
    level: int,
    efficiency: int,
    guide_accuracy: int,
    convenience: int,
    usability: int,
    comment: str = "",
) -> Rating:
    """Rate (or rate again) and, for a bad first rating, start the loop's flow; all or nothing.
    Errors: those of ``approvals.ratings.services.rating_give``."""
    with transaction.atomic():
        given = services.rating_give(
            actor=actor,
            application=application,
            level=level,
            efficiency=efficiency,
            guide_accuracy=guide_accuracy,
            convenience=convenience,
            usability=usability,
            comment=comment,
        )
        if given.loop is not None:
            BadRatingFlow.start.run(loop=given.loop)
    return given.rating


def _step_and_route(loop: RatingLoop, record: Callable[[], RatingLoop]) -> RatingLoop:
    process = process_of(loop)
    if process is None:
        raise DomainError("process_missing", _("This follow-up has no running procedure."))
    with transaction.atomic(), BadRatingFlow.lock(process.pk):
        status = RatingLoop.objects.values_list("status", flat=True).get(pk=loop.pk)
        recorded = record()
        node = NODE_OF_STATUS.get(RatingLoop.Status(status))
        task = Task.objects.filter(process=process, flow_task=node, status=STATUS.NEW).first() if node else None
        if node is None or task is None:
            raise DomainError("process_out_of_step", _("The procedure of this follow-up is not at this step."))
        node.run(task)
    return recorded


def rating_loop_call_back_and_route(
    *, actor: User, loop: RatingLoop, contacted_at: datetime.datetime, channel: str, notes: str
) -> RatingLoop:
    return _step_and_route(
        loop,
        lambda: services.rating_loop_call_back(
            actor=actor, loop=loop, contacted_at=contacted_at, channel=channel, notes=notes
        ),
    )


def rating_loop_verify_and_route(*, actor: User, loop: RatingLoop, confirmed: bool, findings: str) -> RatingLoop:
    return _step_and_route(
        loop, lambda: services.rating_loop_verify(actor=actor, loop=loop, confirmed=confirmed, findings=findings)
    )


def rating_loop_rectify_and_route(
    *, actor: User, loop: RatingLoop, rectification: str, nothing_to_rectify: bool
) -> RatingLoop:
    return _step_and_route(
        loop,
        lambda: services.rating_loop_rectify(
            actor=actor, loop=loop, rectification=rectification, nothing_to_rectify=nothing_to_rectify
        ),
    )


def rating_loop_reply_and_route(*, actor: User, loop: RatingLoop, reply: str) -> RatingLoop:
    return _step_and_route(loop, lambda: services.rating_loop_reply(actor=actor, loop=loop, reply=reply))
