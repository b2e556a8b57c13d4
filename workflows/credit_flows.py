"""Objection (异议) and credit repair (信用修复) as viewflow flows.

Both route the same way: the enterprise submits (``start``, run from the enterprise's screen after
``credit_request_submit``), the credit office decides (``decide``, a Handle run from the credit
office's screen after ``credit_request_decide``), and the process ends by outcome. The business rules
(deadline, evidence, commitment, the entry that ends the original) live in
``credit.ledger_services``; the flow only records the route. The process's artifact is the
``CreditRequest``. Two flow classes composed from the same callbacks, never one subclassing the other.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock

from credit.ledger_models import CreditRequest, RequestStatus


def _start(activation: Any, request: CreditRequest) -> Any:
    activation.process.artifact = request
    activation.process.data = {"request": request.pk, "kind": request.kind}
    activation.process.save()
    return activation.process


def _decided(activation: Any) -> Any:
    request = CreditRequest.objects.get(pk=activation.process.data["request"])
    activation.process.data["granted"] = request.status == RequestStatus.GRANTED
    activation.process.save()
    return activation.process


def _was_granted(activation: Any) -> bool:
    return bool(activation.process.data.get("granted"))


class ObjectionFlow(flow.Flow):
    process_title = _("Objection to a credit entry")
    lock_impl = lock.SelectForUpdateLock(nowait=False)

    start = flow.StartHandle(this.start_process).Next(this.decide)
    decide = flow.Handle(this.record_decision).Next(this.check_granted)
    check_granted = flow.If(_was_granted).Then(this.granted).Else(this.refused)
    granted = flow.End()
    refused = flow.End()

    def start_process(self, activation: Any, request: CreditRequest) -> Any:
        return _start(activation, request)

    def record_decision(self, activation: Any) -> Any:
        return _decided(activation)


class RepairFlow(flow.Flow):
    process_title = _("Credit repair")
    lock_impl = lock.SelectForUpdateLock(nowait=False)

    start = flow.StartHandle(this.start_process).Next(this.decide)
    decide = flow.Handle(this.record_decision).Next(this.check_granted)
    check_granted = flow.If(_was_granted).Then(this.granted).Else(this.refused)
    granted = flow.End()
    refused = flow.End()

    def start_process(self, activation: Any, request: CreditRequest) -> Any:
        return _start(activation, request)

    def record_decision(self, activation: Any) -> Any:
        return _decided(activation)


def flow_for(kind: str) -> type[flow.Flow]:
    return RepairFlow if kind == CreditRequest.Kind.REPAIR else ObjectionFlow
