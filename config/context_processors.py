"""The navigation of the layout, by role. Costs a constant number of queries per page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from approvals import permissions
from core.outbox.selectors import unread_count
from credit import permissions as credit_permissions


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    items: list[dict[str, Any]] = []
    services = {"label": _("Approval list"), "url": reverse("service_list"), "key": "services"}
    if user is None or not user.is_authenticated:
        items.append(services)
    elif user.is_enterprise_user:
        items.append({"label": _("Enterprise portal"), "url": reverse("portal:home"), "key": "portal"})
        items.append({"label": _("My applications"), "url": reverse("portal:applications"), "key": "applications"})
        items.append({"label": _("Policies"), "url": reverse("policies:list"), "key": "policies"})
        items.append(services)
    else:
        items.append({"label": _("Staff workbench"), "url": reverse("workbench:home"), "key": "workbench"})
        if permissions.user_is_supervisor(user=user):
            items.append({"label": _("E-supervision"), "url": reverse("workbench:supervision"), "key": "supervision"})
            items.append({"label": _("Integrity alerts"), "url": reverse("integrity:list"), "key": "integrity"})
        if permissions.user_is_supervisor(user=user) or permissions.user_is_auditor(user=user):
            # Department heads reach it from the workbench home (the nav asks no department query).
            items.append({"label": _("Efficiency"), "url": reverse("workbench:dashboard"), "key": "efficiency"})
        if credit_permissions.user_is_credit_office(user=user):
            items.append({"label": _("Credit office"), "url": reverse("credit_office:home"), "key": "credit_office"})
        if credit_permissions.user_is_policy_office(user=user):
            items.append({"label": _("Policy office"), "url": reverse("policy_office:home"), "key": "policy_office"})
        if permissions.user_is_auditor(user=user):
            items.append({"label": _("Auditor console"), "url": reverse("audit:home"), "key": "audit"})
        if permissions.user_is_administrator(user=user):
            items.append({"label": _("Administration"), "url": reverse("admin:index"), "key": "admin"})
    path = request.path
    # The portal's own sections live under /portal/ too: only the most specific item is current.
    portal_sections = (reverse("portal:applications"), reverse("policies:list"))
    dashboard = reverse("workbench:dashboard")
    for item in items:
        item["active"] = (
            path.startswith(item["url"])
            and not (item["key"] == "portal" and path.startswith(portal_sections))
            and not (item["key"] == "supervision" and path.startswith(dashboard))
        )
    unread = unread_count(user=user) if user is not None and user.is_authenticated else 0
    return {"nav_items": items, "unread_messages": unread}
