"""viewflow's built-in frontend for staff, narrowed to what each staff member may see.

The built-in pages show every process of the flow to any holder of the flow's view permission
(shared/notes/viewflow-2.4.md §4). Here every page asks the question our own pages ask: the
lists and the dashboard show only the applications a department of the user takes part in
(auditors and supervisors: all, read-only), and every URL that names a process (its detail, its
chart, every task's index and detail page) answers 404 unless ``user_may_view_application`` says
yes for the process's application — whatever viewflow mounts, because the guard wraps every URL
pattern of the viewset rather than a list of known views. Enterprise users never reach it (404).

Tasks are worked on ReformFlow's own task pages, which take the claim, the lock and the service
call together: the frontend's ``execute`` URLs lead there, and its write URLs (assign, unassign,
undo, cancel, revive, process cancel, bulk assign) answer 404 for everyone.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, URLResolver, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from viewflow.urls import Site
from viewflow.workflow import STATUS, chart
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.flow import views as flow_views
from viewflow.workflow.flow.viewset import FlowAppViewset

from approvals import permissions
from approvals.applications import selectors
from approvals.models import Application
from core.models import User

# viewflow's own write URLs: work happens on our task pages (claim, lock and service together).
WRITE_URL_NAMES = frozenset(
    {"assign", "unassign", "undo", "cancel", "revive", "process_cancel", "tasks_assign", "tasks_unassign"}
)


def _visible(queryset: Any, user: User, field: str, ids: Any = ...) -> Any:
    """``queryset`` narrowed to the applications ``user`` may read (``ids``: already looked up)."""
    if ids is ...:
        ids = selectors.application_ids_visible_to(user=user)
    return queryset if ids is None else queryset.filter(**{f"{field}__in": ids})


class StaffOnlyMixin:
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (request.user.is_authenticated and request.user.is_bureau_staff):
            raise Http404
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class DashboardView(StaffOnlyMixin, flow_views.DashboardView):
    """viewflow's kanban, with the same rows as the narrowed task list."""

    def _tasks(self) -> Any:
        manager = self.flow_class.task_class._default_manager
        available = manager.filter_available([self.flow_class], self.request.user)
        return _visible(available, self.request.user, "process__artifact_object_id")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        sorted_nodes, _edges = chart.topsort(self.flow_class)
        nodes = [node for node in sorted_nodes if node.task_type in ["HUMAN", "JOB", "SUBPROCESS"]]
        end_nodes = [node for node in sorted_nodes if node.task_type in ["END"]]
        tasks = self._tasks()  # the user's departments are looked up once, not once per column
        columns = [
            {
                "node": node,
                "node_ref": get_task_ref(node),
                "tasks": tasks.filter(Q(finished__isnull=True) | Q(status=STATUS.ERROR), flow_task=node)[
                    : self.MAX_ROWS
                ],
            }
            for node in nodes
        ]
        finished = tasks.filter(finished__isnull=False, flow_task__in=end_nodes)[: self.MAX_ROWS]
        # Starting happens on the portal (the enterprise files), never here.
        return super(flow_views.DashboardView, self).get_context_data(
            columns=columns, start_nodes=[], end_nodes=end_nodes, finished=finished, **kwargs
        )


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
    def get_queryset(self) -> Any:
        return _visible(super().get_queryset(), self.request.user, "process__artifact_object_id")


class QueueView(StaffOnlyMixin, flow_views.FlowQueueListView):
    def get_queryset(self) -> Any:
        return _visible(super().get_queryset(), self.request.user, "process__artifact_object_id")


class ArchiveView(StaffOnlyMixin, flow_views.FlowArchiveListView):
    def get_queryset(self) -> Any:
        return _visible(super().get_queryset(), self.request.user, "process__artifact_object_id")


def _may_open(user: User, flow_class: Any, kwargs: dict[str, Any]) -> bool:
    """The process (and task) a URL names exists in this flow and its application is one the user
    may read."""
    process_pk = kwargs.get("process_pk")
    if process_pk is None:
        return True
    process = flow_class.process_class._default_manager.filter(flow_class=flow_class, pk=process_pk).first()
    if process is None or process.artifact_object_id is None:
        return False
    task_pk = kwargs.get("task_pk")
    if task_pk is not None and not flow_class.task_class._default_manager.filter(pk=task_pk, process=process).exists():
        return False
    application = Application.objects.select_related("item_version").filter(pk=process.artifact_object_id).first()
    return application is not None and permissions.user_may_view_application(user=user, application=application)


def _guarded(view: Callable[..., HttpResponse], flow_class: Any, name: str | None) -> Callable[..., HttpResponse]:
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (user.is_authenticated and user.is_bureau_staff):
            raise Http404
        if name in WRITE_URL_NAMES or not _may_open(user, flow_class, kwargs):  # type: ignore[arg-type]
            raise Http404
        return view(request, *args, **kwargs)

    guarded.reformflow_guarded = True  # type: ignore[attr-defined]
    return guarded


def _guard_patterns(patterns: list[Any], flow_class: Any) -> None:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            _guard_patterns(entry.url_patterns, flow_class)
        elif isinstance(entry, URLPattern) and not getattr(entry.callback, "reformflow_guarded", False):
            entry.callback = _guarded(entry.callback, flow_class, entry.name)


class StaffFlowViewset(FlowAppViewset):
    dashboard_view_class = DashboardView
    process_list_view_class = ProcessListView
    process_detail_view_class = ProcessDetailView
    task_list_view_class = TaskListView
    inbox_view_class = InboxView
    queue_view_class = QueueView
    archive_view_class = ArchiveView

    def has_view_permission(self, user: Any, obj: Any = None) -> bool:
        return bool(user.is_authenticated and getattr(user, "is_bureau_staff", False))

    def _get_urls(self) -> list[Any]:
        patterns = super()._get_urls()
        _guard_patterns(patterns, self._flow_class)
        return patterns

    def get_context_data(self, request: HttpRequest) -> dict[str, Any]:
        """The menu's inbox and queue counts, narrowed like the pages they link to."""
        context = super().get_context_data(request)
        ids = selectors.application_ids_visible_to(user=request.user)  # type: ignore[arg-type]
        return {
            key: _visible(value, request.user, "process__artifact_object_id", ids)  # type: ignore[arg-type]
            for key, value in context.items()
        }


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


# viewflow's process and task status labels: its zh_Hans catalogue leaves them empty, so the
# staff pages showed "New"; named here so our catalogue carries their translations.
VIEWFLOW_STATUS_LABELS = (
    pgettext_lazy("STATUS", "Assigned"),
    pgettext_lazy("STATUS", "Canceled"),
    pgettext_lazy("STATUS", "Done"),
    pgettext_lazy("STATUS", "Error"),
    pgettext_lazy("STATUS", "New"),
    pgettext_lazy("STATUS", "Revived"),
    pgettext_lazy("STATUS", "Scheduled"),
    pgettext_lazy("STATUS", "Started"),
)
