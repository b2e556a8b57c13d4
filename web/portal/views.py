"""The enterprise's home in the portal and its enterprise page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from credit.enterprises import selectors as credit_selectors
from web import todo


@login_required
def portal_home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_enterprise_user:
        raise Http404
    context = {
        "todo": todo.enterprise_todo(request.user),
        "unread_newest": todo.unread_newest(request.user),
        "enterprises": credit_selectors.enterprises_for_user(user=request.user),
        "memberships": credit_selectors.memberships_of_user(user=request.user),
        "today": timezone.localdate(),
    }
    return render(request, "portal/home.html", context)


@login_required
def enterprise_detail(request: HttpRequest, pk: int) -> HttpResponse:
    enterprise = credit_selectors.enterprise_get_for_user(user=request.user, pk=pk)
    if enterprise is None:
        # Foreign, pending, expired or non-existent look the same: never reveal existence.
        raise Http404
    context = {
        "enterprise": enterprise,
        "history": enterprise.profile_changes.order_by("-effective_on", "-id"),
        "members": enterprise.memberships.filter(status="confirmed")
        .select_related("user")
        .order_by("role", "user__username"),
    }
    return render(request, "portal/enterprise.html", context)
