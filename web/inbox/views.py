"""The in-site message centre of every signed-in user (enterprise and staff alike): the list with
unread first marked, one message (reading it marks it read), and "mark all read". Only the
recipient reads a message: anyone else's is 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from core.outbox import selectors, services
from core.outbox.models import SiteMessage

PAGE_SIZE = 20

# Where a message about an object takes its reader: the object's page for their audience.
_OBJECT_PAGES = {
    "approvals.application": {"enterprise": "portal:application", "staff": "workbench:application"},
}


def object_link(message: SiteMessage, *, user_kind: str) -> str | None:
    page = _OBJECT_PAGES.get(message.object_type, {}).get(user_kind)
    if page is None or not message.object_id.isdigit():
        return None
    try:
        return reverse(page, args=[int(message.object_id)])
    except NoReverseMatch:
        return None


@login_required
@require_GET
def message_list(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    messages = selectors.site_messages_of(user=request.user, unread_only=unread_only)
    page = Paginator(messages, PAGE_SIZE).get_page(request.GET.get("page"))
    # the unread count is the layout's (config.context_processors.navigation): one query per page
    context = {"page": page, "unread_only": unread_only}
    return render(request, "inbox/list.html", context)


@login_required
@require_GET
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = selectors.site_message_of(user=request.user, pk=pk)
    if message is None:
        raise Http404
    services.site_message_read(user=request.user, site_message=message)
    link = object_link(message, user_kind=request.user.kind)
    return render(request, "inbox/detail.html", {"message": message, "link": link})


@login_required
@require_POST
def messages_read_all(request: HttpRequest) -> HttpResponse:
    services.site_messages_read_all(user=request.user)
    return HttpResponseRedirect(reverse("inbox:list"))
