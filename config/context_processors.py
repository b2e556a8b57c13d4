"""The navigation of the layout, by role. Costs a constant number of queries per page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from approvals import permissions


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    items: list[dict[str, Any]] = []
    if user is None or not user.is_authenticated:
        return {"nav_items": items}
    if user.is_enterprise_user:
        items.append({"label": _("Enterprise portal"), "url": reverse("portal:home"), "key": "portal"})
    else:
        items.append({"label": _("Staff workbench"), "url": reverse("workbench:home"), "key": "workbench"})
        if permissions.user_is_auditor(user=user):
            items.append({"label": _("Auditor console"), "url": reverse("audit:home"), "key": "audit"})
        if permissions.user_is_administrator(user=user):
            items.append({"label": _("Administration"), "url": reverse("admin:index"), "key": "admin"})
    path = request.path
    for item in items:
        item["active"] = path.startswith(item["url"])
    return {"nav_items": items}
