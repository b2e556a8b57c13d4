"""Policy applications: the credit service and the flow step in one transaction, under the
process lock.

Lock order (as ``workflows.actions.applications``): the process row first (``PolicyApplicationFlow.lock``),
then the application row (taken by the service), then its grant. Two policy-office users deciding
the same application at once therefore queue on the process row; the second finds the application
no longer pending (``application_not_pending``) and writes nothing.

Views, the demo seed and the tests all go through these functions.
"""

from __future__ import annotations

import contextlib
import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS, STATUS

from core.models import User
from credit.models import Enterprise
from credit.policies import services as policy_services
from credit.policies.models import Policy, PolicyApplication, PolicyGrant
from workflows.policy_flows import PolicyApplicationFlow

OPEN_TASK_STATUSES = [STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED, STATUS.SCHEDULED]


def process_of(application: PolicyApplication) -> Process | None:
    """The application's process, or ``None`` for an application filed outside the flow (a
    command or an import that called the service directly): its decision is still recorded by the
    service, there is just nothing to route."""
    return (
        Process.objects.filter(
            flow_class=PolicyApplicationFlow,
            artifact_content_type=ContentType.objects.get_for_model(PolicyApplication),
            artifact_object_id=application.pk,
        )
        .order_by("-pk")
        .first()
    )


def policy_apply_and_start(*, actor: User, enterprise: Enterprise, policy: Policy, **terms: Any) -> PolicyApplication:
    """Submit (eligibility decided and recorded at once) and start the process, all or nothing:
    a refused submission (``application_open`` for the losing twin of a double click, bad input)
    leaves neither an application, a decision nor a process. Errors: those of
    ``policy_application_submit`` (``terms``: the requested amount and term, the statement)."""
    with transaction.atomic():
        application = policy_services.policy_application_submit(
            actor=actor, enterprise=enterprise, policy=policy, **terms
        )
        PolicyApplicationFlow.start.run(application=application)
    return application


def _run_review(process: Process | None) -> None:
    if process is None:
        return
    task = Task.objects.filter(process=process, flow_task=PolicyApplicationFlow.review, status=STATUS.NEW).first()
    if task is not None:
        PolicyApplicationFlow.review.run(task)


def _locked(application: PolicyApplication) -> tuple[Process | None, Any]:
    process = process_of(application)
    if process is None:
        return None, contextlib.nullcontext()
    return process, PolicyApplicationFlow.lock(process.pk)


def policy_approve_and_route(
    *, actor: User, application: PolicyApplication, amount: Any, term_months: int, note: str = ""
) -> PolicyGrant:
    """The policy office approves (the grant is recorded) and the process ends ``granted``.
    Errors: those of ``policy_application_approve``."""
    process, process_lock = _locked(application)
    with transaction.atomic(), process_lock:
        grant = policy_services.policy_application_approve(
            actor=actor, application=application, amount=amount, term_months=term_months, note=note
        )
        _run_review(process)
    return grant


def policy_refuse_and_route(*, actor: User, application: PolicyApplication, reason: str) -> PolicyApplication:
    """The policy office refuses with reasons and the process ends ``refused``.
    Errors: those of ``policy_application_refuse``."""
    process, process_lock = _locked(application)
    with transaction.atomic(), process_lock:
        refused = policy_services.policy_application_refuse(actor=actor, application=application, reason=reason)
        _run_review(process)
    return refused


def policy_withdraw_and_cancel(*, actor: User, application: PolicyApplication) -> PolicyApplication:
    """The enterprise withdraws an application awaiting the policy office; the review task and the
    process are cancelled in the same transaction. Errors: those of ``policy_application_withdraw``."""
    process, process_lock = _locked(application)
    with transaction.atomic(), process_lock:
        withdrawn = policy_services.policy_application_withdraw(actor=actor, application=application)
        if process is not None:
            now: datetime.datetime = timezone.now()
            for task in Task.objects.filter(process=process, status__in=OPEN_TASK_STATUSES):
                activation: Any = task.flow_task.activation_class(task)
                activation.cancel()
            Process.objects.filter(pk=process.pk).update(status=PROCESS.CANCELED, finished=now)
    return withdrawn
