"""Objection (异议) and credit repair (信用修复) as viewflow flows.

Both route the same way: the enterprise submits (``start``, run from the enterprise's screen after
``credit_request_submit``), the credit office decides (``decide``, a Handle run from the credit
office's screen after ``credit_request_decide``), and the process ends by outcome. The business rules
(deadline, evidence, commitment, the entry that ends the original) live in
``credit.ledger.services``; the flow only records the route. The process's artifact is the
``CreditRequest``. Two flow classes made by one factory from the same callbacks, never one subclassing
the other.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock

from credit.ledger.models import CreditRequest, RequestStatus


def _start(activation: Any, credit_request: CreditRequest) -> Any:
    activation.process.artifact = credit_request
    activation.process.data = {"request": credit_request.pk, "kind": credit_request.kind}
    activation.process.save()
    return activation.process


def _decided(activation: Any) -> Any:
    credit_request = CreditRequest.objects.get(pk=activation.process.data["request"])
    activation.process.data["granted"] = credit_request.status == RequestStatus.GRANTED
    activation.process.save()
    return activation.process


def _was_granted(activation: Any) -> bool:
    return bool(activation.process.data.get("granted"))


def _request_flow(name: str, title: Any) -> type[flow.Flow]:
    """A flow class of the credit-request route, with its own node instances (viewflow binds each
    node to one flow class) and the qualified name viewflow stores in its process rows."""

    def start_process(self: flow.Flow, activation: Any, credit_request: CreditRequest) -> Any:
        return _start(activation, credit_request)

    def record_decision(self: flow.Flow, activation: Any) -> Any:
        return _decided(activation)

    namespace = {
        "__module__": __name__,
        "__qualname__": name,
        "process_title": title,
        "lock_impl": lock.SelectForUpdateLock(nowait=False),
        "start": flow.StartHandle(this.start_process).Next(this.decide),
        "decide": flow.Handle(this.record_decision).Next(this.check_granted),
        "check_granted": flow.If(_was_granted).Then(this.granted).Else(this.refused),
        "granted": flow.End(),
        "refused": flow.End(),
        "start_process": start_process,
        "record_decision": record_decision,
    }
    return type(flow.Flow)(name, (flow.Flow,), namespace)


ObjectionFlow = _request_flow("ObjectionFlow", _("Objection to a credit entry"))
RepairFlow = _request_flow("RepairFlow", _("Credit repair"))


def flow_for(kind: str) -> type[flow.Flow]:
    return RepairFlow if kind == CreditRequest.Kind.REPAIR else ObjectionFlow
