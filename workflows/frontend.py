"""viewflow's built-in frontend for staff, narrowed to what each staff member may see.

The built-in process list, process detail and task list show every process of the flow to any
holder of the flow's view permission (shared/notes/viewflow-2.4.md §4). Here they show only the
applications a department of the user takes part in (auditors and supervisors: all, read-only).
Enterprise users never reach it (404). Tasks are worked on ReformFlow's own task pages, which
take the claim, the lock and the service call together: the frontend's task URLs lead there.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from viewflow.urls import Site
from viewflow.workflow.flow import views as flow_views
from viewflow.workflow.flow.viewset import FlowAppViewset

from approvals import selectors
from core.models import User


def _visible(queryset: Any, user: User, field: str) -> Any:
    ids = selectors.application_ids_visible_to(user=user)
    return queryset if ids is None else queryset.filter(**{f"{field}__in": ids})


class StaffOnlyMixin:
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (request.user.is_authenticated and request.user.is_bureau_staff):
            raise Http404
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class ProcessListView(StaffOnlyMixin, flow_views.DashboardProcessListView):
    def get_queryset(self) -> Any:
        return _visible(super().get_queryset(), self.request.user, "artifact_object_id").order_by("-created", "-pk")


class ProcessDetailView(StaffOnlyMixin, flow_views.DetailProcessView):
    def get_queryset(self) -> Any:
        return _visible(super().get_queryset(), self.request.user, "artifact_object_id")


class TaskListView(StaffOnlyMixin, flow_views.DashboardTaskListView):
    def get_queryset(self) -> Any:
        return _visible(super().get_queryset(), self.request.user, "process__artifact_object_id")


class InboxView(StaffOnlyMixin, flow_views.FlowInboxListView):
    pass


class QueueView(StaffOnlyMixin, flow_views.FlowQueueListView):
    pass


class ArchiveView(StaffOnlyMixin, flow_views.FlowArchiveListView):
    pass


class StaffFlowViewset(FlowAppViewset):
    process_list_view_class = ProcessListView
    process_detail_view_class = ProcessDetailView
    task_list_view_class = TaskListView
    inbox_view_class = InboxView
    queue_view_class = QueueView
    archive_view_class = ArchiveView

    def has_view_permission(self, user: Any, obj: Any = None) -> bool:
        return bool(user.is_authenticated and getattr(user, "is_bureau_staff", False))


class OpenOnOurTaskPage(View):
    """The frontend's task URL: our task page takes the claim, lock and service call together."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (request.user.is_authenticated and request.user.is_bureau_staff):
            raise Http404
        return HttpResponseRedirect(reverse("workbench:task", args=[kwargs["task_pk"]]), status=303)


class StaffSite(Site):
    def has_view_permission(self, user: Any, obj: Any = None) -> bool:
        return bool(user.is_authenticated and getattr(user, "is_bureau_staff", False))


STAFF_PREFIX = "/staff/"


class StaffAreaMiddleware:
    """Anyone but bureau staff gets 404 (not viewflow's 403) anywhere under /staff/, so the
    frontend's existence tells an enterprise user nothing."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(STAFF_PREFIX):
            user = getattr(request, "user", None)
            if user is None or not user.is_authenticated:
                return HttpResponseRedirect(f"{reverse('login')}?next={request.path}")
            if not user.is_bureau_staff:
                raise Http404
        return self.get_response(request)


def staff_site() -> Site:
    from workflows.commitment_flows import CommitmentApprovalFlow
    from workflows.flows import StandardApprovalFlow

    return StaffSite(
        title=_("ReformFlow staff"),
        viewsets=[
            StaffFlowViewset(StandardApprovalFlow, icon="assignment"),
            StaffFlowViewset(CommitmentApprovalFlow, icon="verified"),
        ],
    )
