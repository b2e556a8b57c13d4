"""PolicyApplicationFlow: an enterprise's application for a credit-gated policy (§36, §45).

    start (run right after ``policy_application_submit``, in its transaction; the eligibility
           decision is already recorded and the application is ``ineligible`` or ``pending_review``)
      → check_eligible
          not eligible → refused_ineligible (at once; nothing granted)
          eligible     → review (a Handle: run from the policy office's screen after approve/refuse)
                           → check_approved → granted | refused
    A withdrawal by the enterprise cancels the process (``workflows.actions.policies``).

The flow routes only: eligibility, caps, who may decide and what a grant is live in
``credit.policies.services``. The gates read the application's own status column (the artifact),
never a copy in the process's JSON.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.models import Process

from credit.policies.models import ApplicationStatus, PolicyApplication


def application_of(activation: Any) -> PolicyApplication:
    """The application the process routes (re-read: the service changed it in this transaction)."""
    return PolicyApplication.objects.get(pk=activation.process.artifact_object_id)


def _is_eligible(activation: Any) -> bool:
    return application_of(activation).status == ApplicationStatus.PENDING_REVIEW


def _is_approved(activation: Any) -> bool:
    return application_of(activation).status == ApplicationStatus.APPROVED


class PolicyApplicationFlow(flow.Flow):
    process_class = Process
    # Waits on the process row instead of viewflow's NOWAIT-and-sleep retries (HOUSE_STYLE).
    lock_impl = lock.SelectForUpdateLock(nowait=False)
    process_title = _("Preferential policy application")
    process_description = _("Eligibility decided from the credit ledger, then the policy office's review.")

    start = flow.StartHandle(this.start_process).Next(this.check_eligible)
    check_eligible = flow.If(_is_eligible).Then(this.review).Else(this.refused_ineligible)
    refused_ineligible = flow.End()
    review = flow.Handle(this.record_review).Next(this.check_approved)
    check_approved = flow.If(_is_approved).Then(this.granted).Else(this.refused)
    granted = flow.End()
    refused = flow.End()

    def start_process(self, activation: Any, application: PolicyApplication) -> Any:
        activation.process.artifact_content_type = ContentType.objects.get_for_model(PolicyApplication)
        activation.process.artifact_object_id = application.pk
        activation.process.data = {"application": application.pk}
        activation.process.save()
        return activation.process

    def record_review(self, activation: Any) -> Any:
        return activation.process
