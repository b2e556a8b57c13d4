"""Our own node types.

``DynamicSplit`` fans out one branch per item of a data source (the open edition's ``Split``
ignores ``data_source``), giving each branch task its ``task.data``. ``DepartmentTask`` is a human
task owned by one department: its guardian permission object comes from the task (not only from
the process), assignment and execution are decided by ``approvals.permissions`` (so delegations
count and global permissions never do), and it records a ``Step`` with its own deadline.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.nodes.join import Join
from viewflow.workflow.nodes.split import SplitActivation
from viewflow.workflow.token import Token

from approvals import permissions
from approvals.applications import services as application_services
from approvals.models import Department, Step


class DynamicSplitActivation(SplitActivation):
    @Activation.status.super()
    def activate(self) -> None:
        for node, cond, data_source in self.flow_task._branches:
            if cond and not cond(self):
                continue
            if data_source is None:
                self.next_tasks.append((node, None))
                continue
            for item in data_source(self):
                self.next_tasks.append((node, item))
        if not self.next_tasks:
            raise FlowRuntimeError(f"No branch to start from {self.flow_task.name}")

    @Activation.status.super()
    def create_next(self):  # type: ignore[no-untyped-def]
        token_source = Token.split_token_source(self.task.token, self.task.pk)
        ordered = [pair for pair in self.next_tasks if not isinstance(pair[0], Join)] + [
            pair for pair in self.next_tasks if isinstance(pair[0], Join)
        ]
        for next_task, data in ordered:
            yield next_task._create(prev_activation=self, token=next(token_source), data=data)


class DynamicSplit(flow.Split):
    """``Split`` whose ``.Next(node, data_source=callable(activation) -> list[dict])`` starts one
    task per item."""

    activation_class = DynamicSplitActivation

    def Next(self, node: Any, case: Any = None, data_source: Any = None) -> DynamicSplit:  # noqa: N802  (viewflow's API)
        self._activate_next.append((node, case, data_source))
        return self


def task_department(task: Any) -> Department:
    """The department a department task is owned by (its owner permission object)."""
    return Department.objects.get(pk=int(task.owner_permission_obj_pk))


def boundary_host(boundary: Any) -> Any:
    """The task a timer boundary belongs to: viewflow records the host task as the boundary's
    ``previous``. ``None`` when there is none."""
    return boundary.previous.order_by("-pk").first()


def timed_out_task(activation: Any) -> Any:
    """In the node a timeout leads to: the task whose timer fired (the timer's host)."""
    timer = boundary_host(activation.task)
    return boundary_host(timer) if timer is not None else None


def step_timeout(activation: Any) -> datetime.datetime:
    """Delay of a step's timeout boundary: the end of the host step's due day."""
    host = boundary_host(activation.task)
    step = Step.objects.filter(task_id=host.pk).only("due_on").first() if host else None
    return application_services.due_moment(step.due_on if step else None)


class DepartmentTask(flow.View):
    def __init__(
        self,
        view: Any,
        *,
        step_kind: str,
        perm: str,
        department: Callable[[Any], Department],
        **kwargs: Any,
    ) -> None:
        super().__init__(view, **kwargs)
        self._step_kind = step_kind
        self._department = department
        self.Permission(perm)

    def calc_owner_permission_obj(self, activation: Any) -> Department:
        return self._department(activation)

    def _create(self, prev_activation: Any, token: Any, data: Any = None, seed: Any = None) -> Any:
        activation = self.activation_class.create(self, prev_activation, token, data=data, seed=seed)
        application_services.step_open(
            application=activation.process.application,
            kind=self._step_kind,
            department=activation.task.owner_permission_obj,
            task_id=activation.task.pk,
        )
        for boundary_event in self._boundary_events:
            boundary_event._arm(activation)
        return activation

    def department_of(self, task: Any) -> Department:
        return task_department(task)

    def can_assign(self, user: Any, task: Any) -> bool:
        return (
            task.owner_id is None
            and user.is_authenticated
            and permissions.user_may_act_for_department(
                user=user, perm=task.owner_permission, department=self.department_of(task)
            )
        )

    def can_unassign(self, user: Any, task: Any) -> bool:
        return task.owner_id is not None and task.owner_id == user.pk

    def can_execute(self, user: Any, task: Any) -> bool:
        return task.owner_id == user.pk and permissions.user_may_act_for_department(
            user=user, perm=task.owner_permission, department=self.department_of(task)
        )


# --- the views viewflow's frontend opens for a human node ------------------------------------------
# viewflow needs a view on every human node (its task URL). Ours live with every other screen in
# web/staff/task_pages.py (the layer above this one): a node names its view by its dotted path, and
# it is imported when viewflow's frontend first opens such a task, after every app has loaded.


SCREENS: set[str] = set()  # every dotted path a node names (a system check imports each one)


def screen(dotted_path: str) -> Callable[..., HttpResponse]:
    """The view at ``dotted_path`` (a class-based view), for a node's constructor."""
    SCREENS.add(dotted_path)

    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _screen_view(dotted_path)(request, *args, **kwargs)

    return view


@functools.cache
def _screen_view(dotted_path: str) -> Callable[..., HttpResponse]:
    view: Callable[..., HttpResponse] = import_string(dotted_path).as_view()
    return view
