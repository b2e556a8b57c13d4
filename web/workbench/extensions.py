"""The head of the bureau's extension requests (行政许可法 art. 42): pending first, then the
decided ones, each with its case; approve or refuse with reasons."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from approvals import permissions
from approvals.applications import services
from approvals.models import ExtensionRequest
from core.exceptions import DomainError
from core.models import User
from web.workbench.forms import ExtensionDecisionForm

PAGE_SIZE = 50


def _require_head(user: User) -> None:
    if not (user.is_authenticated and permissions.user_is_bureau_head(user=user)):
        raise Http404


@login_required
def extension_list(request: HttpRequest) -> HttpResponse:
    _require_head(request.user)
    state = request.GET.get("state", "pending")
    requests = ExtensionRequest.objects.select_related(
        "application__item_version__lead_department", "application__enterprise", "requested_by", "decided_by"
    )
    if state == "pending":
        requests = requests.filter(status=ExtensionRequest.Status.PENDING).order_by("requested_at", "pk")
    else:
        state = "decided"
        requests = requests.exclude(status=ExtensionRequest.Status.PENDING).order_by("-decided_at", "-pk")
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "workbench/extensions.html", {"page": page, "state": state, "form": ExtensionDecisionForm()})


@login_required
@require_POST
def extension_decide(request: HttpRequest, pk: int) -> HttpResponse:
    _require_head(request.user)
    extension = ExtensionRequest.objects.select_related("application__item_version").filter(pk=pk).first()
    if extension is None:
        raise Http404
    form = ExtensionDecisionForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError("form_invalid", _("Check the decision: %(errors)s") % {"errors": form.errors.as_text()})
        services.application_extension_decide(
            actor=request.user,
            request=extension,
            approve=form.cleaned_data["decision"] == "approve",
            comment=form.cleaned_data["comment"],
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Recorded."))
    return HttpResponseRedirect(reverse("workbench:extensions"))
