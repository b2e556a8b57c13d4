"""The views viewflow's frontend opens for a human node (its task URL). Ours only send the user on
to ReformFlow's own page for the task, which takes the claim, the lock and the action together.
The flows name them by dotted path (``workflows.nodes.screen``)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views import View

from approvals.models import InspectionTask


class OpenOnOurTaskPage(View):
    """The frontend's task URL: our task page takes the claim, lock and service call together."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (request.user.is_authenticated and request.user.is_bureau_staff):
            raise Http404
        return HttpResponseRedirect(reverse("workbench:task", args=[kwargs["task_pk"]]), status=303)


class OpenInspectionPage(View):
    """The frontend's task URL: the inspection page records, locks and routes together."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (request.user.is_authenticated and request.user.is_bureau_staff):
            raise Http404
        task = InspectionTask.objects.filter(flow_task_id=kwargs["task_pk"]).only("pk").first()
        if task is None:
            raise Http404
        return HttpResponseRedirect(reverse("supervision:task", args=[task.pk]), status=303)
