"""The in-site message centre of every signed-in user (enterprise and staff alike): the list with
unread first marked, one message (reading it marks it read), and "mark all read". Only the
recipient reads a message: anyone else's is 404."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import DomainError
from core.outbox import preferences, selectors, services
from core.outbox.kinds import CHANNELS, notice_kinds
from core.outbox.models import Delivery, SiteMessage

PAGE_SIZE = 20

# Where a message about an object takes its reader: the object's page for their audience.
_OBJECT_PAGES = {
    "approvals.application": {"enterprise": "portal:application", "staff": "workbench:application"},
    "credit.enterprise": {"enterprise": "credit:credit"},
    "credit.policyapplication": {"enterprise": "policies:application"},
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


# the preferences page lists a case's notices first, then credit, then policies
_TOPICS = ("application", "task", "credit", "policy")


def _topic_order(kind: Any) -> int:
    topic = kind.code.split(".", 1)[0]
    return _TOPICS.index(topic) if topic in _TOPICS else len(_TOPICS)


def _preference_rows(user: Any) -> list[dict[str, Any]]:
    """One row per notice kind of the user's audience: per channel, whether it is on, whether the
    user may change it, and whether the user can be reached on it at all."""
    kinds = sorted(notice_kinds(audience=preferences.audience_of(user)), key=_topic_order)
    enabled = preferences.preferences_of(user, kinds)
    labels = dict(Delivery.Channel.choices)
    rows = []
    for kind in kinds:
        title = str(kind.label) if kind.label else kind_example(kind)[0]
        rows.append(
            {
                "kind": kind,
                "title": title,
                "channels": [
                    {
                        "name": f"{kind.code}:{channel}",
                        "code": channel,
                        "label": labels[channel],
                        "on": enabled[(kind.code, channel)],
                        "choosable": preferences.choosable(kind, channel),
                        "reachable": preferences.reachable(user, channel),
                    }
                    for channel in CHANNELS
                ],
            }
        )
    return rows


def kind_example(kind: Any) -> tuple[str, str]:
    """The kind's title with its placeholders shown as "…" (a row label, not a real message)."""
    from collections import defaultdict

    values: defaultdict[str, str] = defaultdict(lambda: "…")
    try:
        return str(kind.title) % values, str(kind.body) % values
    except (TypeError, ValueError):
        return str(kind.title), str(kind.body)


@login_required
@require_http_methods(["GET", "POST"])
def notice_preferences(request: HttpRequest) -> HttpResponse:
    """Which channels each kind of notice reaches the user on. A mandatory channel is shown on and
    cannot be turned off; a channel the user cannot be reached on says what is missing."""
    rows = _preference_rows(request.user)
    error = ""
    if request.method == "POST":
        choices = {
            tuple(channel["name"].split(":", 1)): channel["name"] in request.POST
            for row in rows
            for channel in row["channels"]
            if channel["choosable"]
        }
        try:
            changed = preferences.notice_preferences_set(user=request.user, enabled=choices)  # type: ignore[arg-type]
        except DomainError as exc:
            error = str(exc.message)
        else:
            return HttpResponseRedirect(reverse("inbox:preferences") + f"?saved={changed}")
    context = {
        "rows": rows,
        "channels": [label for value, label in Delivery.Channel.choices],
        "saved": request.GET.get("saved", "").isdigit(),
        "error": error,
    }
    return render(request, "inbox/preferences.html", context)
