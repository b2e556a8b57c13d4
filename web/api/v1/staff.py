"""Staff resources: the department queue and its tasks, on the workbench's own scoping and actions.

The queue is ``approvals.applications.selectors.steps_open_for`` (the workbench's queue: the steps
of the departments where the user holds the step's permission, directly or by a running
delegation); a task is found and scoped by ``web.workbench.tasks`` (another department's task is a
404, as on the screen); claim, release and completion go through ``workflows.actions.applications``
(the flow's row lock, one transaction, the service's own validation) and the forms of the task
pages. Browser session only: these are the screens' own scripts. Auditors read and change
nothing: every write is a 403 ``auditor_read_only`` for them.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.db.models import DateField, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from approvals import permissions
from approvals.applications import selectors
from approvals.models import Application, Decision, ReviewOpinion, Step
from core.actors import is_working_staff
from core.exceptions import DomainError
from core.models import User
from web.api.errors import Conflict
from web.api.pagination import Cursor
from web.workbench import forms as wf_forms
from web.workbench.tasks import may_see_task, task_or_404
from workflows.actions import applications as actions

# Refusals that say the task's state has moved on (someone else claimed it, it is not yours to
# work, it is closed): a conflict, not a broken rule.
CONFLICT_CODES = frozenset({"task_not_claimable", "task_not_yours"})


# --- permissions ----------------------------------------------------------------------------------


def _user(request: Request) -> User:
    """The signed-in user (every staff view requires one before it runs)."""
    return cast(User, request.user)


class BureauStaff(BasePermission):
    message = _("Only bureau staff may use this resource.")
    code = "staff_only"

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_working_staff(request.user)


class AuditorsChangeNothing(BasePermission):
    message = _("Auditors read; they change nothing.")
    code = "auditor_read_only"

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS or not permissions.user_is_auditor(user=_user(request))


STAFF_PERMISSIONS = [IsAuthenticated, BureauStaff, AuditorsChangeNothing]


# --- serializers (shape only) ---------------------------------------------------------------------


class DepartmentSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class StaffApplicationSummarySerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    reference = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    item_code = serializers.CharField(source="item_version.item.code")
    item_name = serializers.CharField(source="item_version.name")
    enterprise_name = serializers.CharField(source="enterprise.name")
    enterprise_uscc = serializers.CharField(source="enterprise.uscc")
    submitted_at = serializers.DateTimeField(allow_null=True)
    deadline = serializers.DateField(allow_null=True)


class QueueStepSerializer(serializers.Serializer):  # type: ignore[type-arg]
    task_id = serializers.IntegerField()
    step_id = serializers.IntegerField(source="pk")
    kind = serializers.ChoiceField(choices=Step.Kind.choices)
    department = DepartmentSerializer()
    application = StaffApplicationSummarySerializer()
    opened_at = serializers.DateTimeField()
    due_on = serializers.DateField(allow_null=True)
    due_provisional = serializers.BooleanField()
    band = serializers.ChoiceField(choices=["green", "yellow", "red", "none"])
    days_left = serializers.IntegerField(allow_null=True)
    claimed_by = serializers.CharField(source="claimed_by.username", allow_null=True, default=None)
    claimed_at = serializers.DateTimeField(allow_null=True)


class MaterialSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    name = serializers.CharField()
    mandatory = serializers.BooleanField()


class TaskSerializer(serializers.Serializer):  # type: ignore[type-arg]
    task_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Step.Kind.choices)
    status = serializers.CharField(help_text="viewflow's task status: NEW (in the queue), ASSIGNED (claimed), DONE …")
    department = DepartmentSerializer()
    application = StaffApplicationSummarySerializer()
    claimed_by = serializers.CharField(allow_null=True)
    claimed_at = serializers.DateTimeField(allow_null=True)
    due_on = serializers.DateField(allow_null=True)
    outcome = serializers.CharField(allow_blank=True)
    can_claim = serializers.BooleanField()
    can_release = serializers.BooleanField()
    can_complete = serializers.BooleanField()
    materials = MaterialSerializer(many=True, help_text="The item's materials (``material_ids`` of an acceptance).")


class AcceptSerializer(serializers.Serializer):  # type: ignore[type-arg]
    decision = serializers.ChoiceField(choices=[value for value, _label in wf_forms.AcceptForm.DECISIONS])
    material_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    other = serializers.CharField(required=False, allow_blank=True, max_length=500)
    text = serializers.CharField(required=False, allow_blank=True, max_length=4000)


# The opinions a reviewer gives (deemed consent is recorded by the flow, never given).
REVIEW_OUTCOMES = [value for value in ReviewOpinion.Outcome.values if value != ReviewOpinion.Outcome.DEEMED_CONSENT]


class ReviewSerializer(serializers.Serializer):  # type: ignore[type-arg]
    outcome = serializers.ChoiceField(choices=REVIEW_OUTCOMES)
    reasons = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class DecideSerializer(serializers.Serializer):  # type: ignore[type-arg]
    outcome = serializers.ChoiceField(choices=Decision.Outcome.values)
    reasons = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    override_justification = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class CompletedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    outcome = serializers.CharField()
    task = TaskSerializer()


ERROR = inline_serializer(
    "Error",
    {
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "fields": serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False),
    },
)


# --- the queue ------------------------------------------------------------------------------------


class QueueCursor(Cursor):
    # Most urgent first, as on the workbench (a step without a due date last); the cursor keeps its
    # place by the first key, ties broken by the rest.
    # DRF takes a tuple as well as a string
    ordering = ("queue_due", "opened_at", "id")  # type: ignore[assignment]


QUEUE_FILTERS = {
    "unclaimed": lambda steps, user: steps.filter(claimed_by__isnull=True),
    "mine": lambda steps, user: steps.filter(claimed_by=user),
    "others": lambda steps, user: steps.exclude(claimed_by__isnull=True).exclude(claimed_by=user),
}


class QueueFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    claimed = serializers.ChoiceField(
        choices=sorted(QUEUE_FILTERS), required=False, help_text="The workbench's three lists."
    )
    kind = serializers.ChoiceField(choices=Step.Kind.choices, required=False)
    department = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class QueueView(APIView):
    permission_classes = STAFF_PERMISSIONS

    @extend_schema(
        operation_id="staff_queue",
        summary="The department queue",
        description=(
            "The open steps of the departments where the signed-in staff member may work them (own "
            "permissions and running delegations): exactly the workbench's queue. Most urgent first."
        ),
        parameters=[QueueFilterSerializer],
        responses={200: QueueStepSerializer(many=True), 400: ERROR, 403: ERROR},
        tags=["staff"],
    )
    def get(self, request: Request) -> Response:
        query = QueueFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted = query.validated_data
        steps: QuerySet[Step] = selectors.steps_open_for(user=request.user).select_related(  # type: ignore[arg-type]
            "application__item_version__item"
        )
        if "claimed" in wanted:
            steps = QUEUE_FILTERS[wanted["claimed"]](steps, request.user)
        if "kind" in wanted:
            steps = steps.filter(kind=wanted["kind"])
        if "department" in wanted:
            steps = steps.filter(department_id=wanted["department"])
        steps = steps.annotate(queue_due=Coalesce("due_on", Value(datetime.date.max), output_field=DateField()))
        paginator = QueueCursor()
        page: list[Step] = list(paginator.paginate_queryset(steps, request, view=self) or [])
        selectors.steps_annotate_band(page)
        return paginator.get_paginated_response(QueueStepSerializer(page, many=True).data)


# --- one task -------------------------------------------------------------------------------------


def _task_for(request: Request, task_pk: int) -> Task:
    """The task if the user may see it: the workbench's scoping, or an auditor (who reads
    everything and changes nothing). Anyone else: 404, as on the screen."""
    task = task_or_404(task_pk)
    if may_see_task(_user(request), task):
        return task
    if request.method in SAFE_METHODS and permissions.user_is_auditor(user=_user(request)):
        return task
    raise exceptions.NotFound()


def _task_body(request: Request, task: Task) -> dict[str, Any]:
    task.refresh_from_db()
    step = Step.objects.select_related("department", "claimed_by").filter(task_id=task.pk).first()
    application = Application.objects.select_related("item_version__item", "enterprise").get(
        pk=task.process.artifact_object_id
    )
    user = request.user
    materials = application.item_version.materials.all() if task.flow_task._step_kind == "accept" else []
    return {
        "task_id": task.pk,
        "kind": task.flow_task._step_kind,
        "status": task.status,
        "department": step.department if step is not None else None,
        "application": application,
        "claimed_by": step.claimed_by.username if step is not None and step.claimed_by else None,
        "claimed_at": step.claimed_at if step is not None else None,
        "due_on": step.due_on if step is not None else None,
        "outcome": step.outcome if step is not None else "",
        "can_claim": task.status == STATUS.NEW and bool(task.flow_task.can_assign(user, task)),
        "can_release": task.status == STATUS.ASSIGNED and bool(task.flow_task.can_unassign(user, task)),
        "can_complete": task.status == STATUS.ASSIGNED
        and task.owner_id == user.pk
        and bool(task.flow_task.can_execute(user, task)),
        "materials": [{"id": m.pk, "name": m.name, "mandatory": m.mandatory} for m in materials],
    }


def _refused(exc: DomainError) -> Exception:
    """A domain refusal as the API answers it: a state conflict as 409, any other rule as 422,
    both with the service's own code."""
    if exc.code in CONFLICT_CODES:
        return Conflict(detail=str(exc.message), code=exc.code)
    return exc


TASK_PARAMETER = OpenApiParameter("task_pk", int, OpenApiParameter.PATH, description="The workflow task's id.")


class TaskView(APIView):
    permission_classes = STAFF_PERMISSIONS

    @extend_schema(
        operation_id="staff_task",
        summary="One task of the queue",
        parameters=[TASK_PARAMETER],
        responses={200: TaskSerializer, 403: ERROR, 404: ERROR},
        tags=["staff"],
    )
    def get(self, request: Request, task_pk: int) -> Response:
        task = _task_for(request, task_pk)
        return Response(TaskSerializer(_task_body(request, task)).data)


class _TaskActionView(APIView):
    permission_classes = STAFF_PERMISSIONS
    action: Callable[..., Any]

    def post(self, request: Request, task_pk: int) -> Response:
        task = _task_for(request, task_pk)
        try:
            type(self).action(actor=request.user, task=task)
        except DomainError as exc:
            raise _refused(exc) from None
        return Response(TaskSerializer(_task_body(request, task)).data)


ACTION_RESPONSES = {200: TaskSerializer, 403: ERROR, 404: ERROR, 409: ERROR}


@extend_schema_view(
    post=extend_schema(
        operation_id="staff_task_claim",
        summary="Claim a task of the queue",
        description="Refused with 409 ``task_not_claimable`` when someone else claimed it first or it is closed.",
        parameters=[TASK_PARAMETER],
        request=None,
        responses=ACTION_RESPONSES,
        tags=["staff"],
    )
)
class ClaimView(_TaskActionView):
    action = staticmethod(actions.task_claim)


@extend_schema_view(
    post=extend_schema(
        operation_id="staff_task_release",
        summary="Put a claimed task back in the queue",
        description="Only the person who claimed it (409 ``task_not_yours``).",
        parameters=[TASK_PARAMETER],
        request=None,
        responses=ACTION_RESPONSES,
        tags=["staff"],
    )
)
class ReleaseView(_TaskActionView):
    action = staticmethod(actions.task_release)


class _CompleteView(APIView):
    """Complete a claimed task with the task page's form and action."""

    permission_classes = STAFF_PERMISSIONS
    kind = ""

    def form(self, application: Application, data: dict[str, Any]) -> forms.Form:
        raise NotImplementedError

    def complete(self, *, actor: Any, task: Task, data: dict[str, Any]) -> str:
        raise NotImplementedError

    def post(self, request: Request, task_pk: int) -> Response:
        task = _task_for(request, task_pk)
        if task.flow_task._step_kind != self.kind:
            raise Conflict(
                detail=_("This task is not a step of this kind: %(kind)s.") % {"kind": task.flow_task._step_kind},
                code="task_kind_mismatch",
            )
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError(_("Send a JSON object."))
        application = Application.objects.select_related("item_version").get(pk=task.process.artifact_object_id)
        form = self.form(application, request.data)
        if not form.is_valid():
            errors = {
                ("non_field_errors" if name == "__all__" else name): [str(message) for message in messages]
                for name, messages in form.errors.items()
            }
            raise exceptions.ValidationError(errors)
        try:
            outcome = self.complete(actor=request.user, task=task, data=form.cleaned_data)
        except DomainError as exc:
            raise _refused(exc) from None
        return Response(CompletedSerializer({"outcome": outcome, "task": _task_body(request, task)}).data)


COMPLETE_RESPONSES = {200: CompletedSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR, 422: ERROR}


@extend_schema_view(
    post=extend_schema(
        operation_id="staff_task_accept",
        summary="Complete an acceptance at the window",
        description="Accept, send the supplement notice (补正) listing what is missing, or do not accept (不予受理) "
        "with reasons: the window's task page, its validation and its refusals.",
        parameters=[TASK_PARAMETER],
        request=AcceptSerializer,
        responses=COMPLETE_RESPONSES,
        tags=["staff"],
    )
)
class AcceptView(_CompleteView):
    kind = "accept"

    def form(self, application: Application, data: dict[str, Any]) -> forms.Form:
        return wf_forms.AcceptForm(data, item_version=application.item_version)

    def complete(self, *, actor: Any, task: Task, data: dict[str, Any]) -> str:
        return actions.accept_complete(
            actor=actor,
            task=task,
            decision=data["decision"],
            material_ids=data["material_ids"],
            other=data["other"],
            text=data["text"],
        )


@extend_schema_view(
    post=extend_schema(
        operation_id="staff_task_review",
        summary="Give a department's review opinion",
        description="同意 / 不同意 (reasons required, else recorded as deemed consent) / 同意但需转报.",
        parameters=[TASK_PARAMETER],
        request=ReviewSerializer,
        responses=COMPLETE_RESPONSES,
        tags=["staff"],
    )
)
class ReviewView(_CompleteView):
    kind = "review"

    def form(self, application: Application, data: dict[str, Any]) -> forms.Form:
        return wf_forms.ReviewForm(data)

    def complete(self, *, actor: Any, task: Task, data: dict[str, Any]) -> str:
        return actions.review_complete(actor=actor, task=task, outcome=data["outcome"], reasons=data["reasons"])


@extend_schema_view(
    post=extend_schema(
        operation_id="staff_task_decide",
        summary="Decide an application",
        description="After all opinions are in; approving over an objection needs ``override_justification``.",
        parameters=[TASK_PARAMETER],
        request=DecideSerializer,
        responses=COMPLETE_RESPONSES,
        tags=["staff"],
    )
)
class DecideView(_CompleteView):
    kind = "decide"

    def form(self, application: Application, data: dict[str, Any]) -> forms.Form:
        return wf_forms.DecideForm(data)

    def complete(self, *, actor: Any, task: Task, data: dict[str, Any]) -> str:
        return actions.decide_complete(
            actor=actor,
            task=task,
            outcome=data["outcome"],
            reasons=data["reasons"],
            override_justification=data["override_justification"],
        )
