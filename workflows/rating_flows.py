"""BadRatingFlow: the 差评 loop of a case rated 不满意 or 非常不满意 (好差评, domain-practice §1.9).

    start (run right after ``rating_give``, in its transaction; the loop row already exists)
      → callback (the lead department calls the applicant back, within 1 working day of the rating)
      → verify (problem confirmed or not, with findings)
      → rectify (what was changed, or why nothing needs to, within 15 working days of the rating)
      → reply (the answer to the applicant, sent as a notice) → replied

Every step is a Handle run from the department's loop page after its service
(``workflows.actions.ratings``), the way the credit office moves ObjectionFlow: the rules (who may
record, what each step needs, the due days) live in ``approvals.ratings.services``; the flow only
records the route. The process's artifact is the ``RatingLoop``. After the reply the applicant may
rate once more, which the rating service allows by the loop's status.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.models import Process

from approvals.models import RatingLoop


class BadRatingFlow(flow.Flow):
    process_class = Process
    # Waits on the process row instead of viewflow's NOWAIT-and-sleep retries (HOUSE_STYLE).
    lock_impl = lock.SelectForUpdateLock(nowait=False)
    process_title = _("Bad-rating follow-up (差评整改)")
    process_description = _("Callback, verification, rectification and reply after a bad rating of a case.")

    start = flow.StartHandle(this.start_process).Next(this.callback)
    callback = flow.Handle(this.step_recorded).Annotation(title=_("Call the applicant back")).Next(this.verify)
    verify = flow.Handle(this.step_recorded).Annotation(title=_("Verify the problem")).Next(this.rectify)
    rectify = flow.Handle(this.step_recorded).Annotation(title=_("Rectify")).Next(this.reply)
    reply = flow.Handle(this.step_recorded).Annotation(title=_("Reply to the applicant")).Next(this.replied)
    replied = flow.End()

    def start_process(self, activation: Any, loop: RatingLoop) -> Any:
        activation.process.artifact_content_type = ContentType.objects.get_for_model(RatingLoop)
        activation.process.artifact_object_id = loop.pk
        activation.process.data = {"loop": loop.pk}
        activation.process.save()
        return activation.process

    def step_recorded(self, activation: Any) -> Any:
        """The service recorded the step (the loop's status moved on); the flow follows."""
        return activation.process


# The node that waits for each status of an open loop.
NODE_OF_STATUS = {
    RatingLoop.Status.CALLBACK: BadRatingFlow.callback,
    RatingLoop.Status.VERIFY: BadRatingFlow.verify,
    RatingLoop.Status.RECTIFY: BadRatingFlow.rectify,
    RatingLoop.Status.REPLY: BadRatingFlow.reply,
}
