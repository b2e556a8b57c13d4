"""Objections and repair requests: the ledger service that writes and the credit-request flow that
records the route, in one transaction. The rules (deadline, evidence, commitment, the entry that
ends the original) are the service's; the flow only routes."""

from __future__ import annotations

from django.db import transaction
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from core.models import User
from credit.enterprises.models import Enterprise
from credit.ledger import services as ledger_services
from credit.ledger.models import CreditRequest, LedgerEntry
from workflows.credit_flows import flow_for


def process_of(credit_request: CreditRequest) -> Process | None:
    """The flow process that routes ``credit_request`` (``None`` for a request made before flows)."""
    flow_class = flow_for(credit_request.kind)
    return Process.objects.filter(flow_class=flow_class, data__request=credit_request.pk).order_by("-pk").first()


def credit_request_submit_and_start(
    *, actor: User, enterprise: Enterprise, entry: LedgerEntry, kind: str, **fields: str
) -> CreditRequest:
    """Submit an objection or a repair request and start its flow; a failure leaves neither."""
    with transaction.atomic():
        credit_request = ledger_services.credit_request_submit(
            actor=actor, enterprise=enterprise, entry=entry, kind=kind, **fields
        )
        flow_for(kind).start.run(credit_request=credit_request)
    return credit_request


def credit_request_decide_and_route(
    *, actor: User, credit_request: CreditRequest, grant: bool, reason: str
) -> CreditRequest:
    """The credit office's decision and the flow's step past ``decide``, all or nothing."""
    with transaction.atomic():
        decided = ledger_services.credit_request_decide(
            actor=actor, credit_request=credit_request, grant=grant, reason=reason
        )
        process = process_of(decided)
        if process is not None:
            flow_class = flow_for(decided.kind)
            task = Task.objects.filter(process=process, flow_task=flow_class.decide, status=STATUS.NEW).first()
            if task is not None:
                flow_class.decide.run(task)
    return decided
