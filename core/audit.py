"""Human labels for audit actions.

An audit event stores a stable action code (``membership.confirmed``); each app registers the
translatable label of its codes in its ``AppConfig.ready`` so that screens can show them, while
``core`` stays ignorant of the apps above it.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

_LABELS: dict[str, str | Promise] = {
    "auditor.read": _("Read by an auditor"),
    "user.registered": _("Account registered"),
    "access_token.created": _("API access token made"),
    "access_token.revoked": _("API access token revoked"),
}


def register_action_labels(labels: dict[str, str | Promise]) -> None:
    _LABELS.update(labels)


def action_label(action: str) -> str | Promise:
    """The label of ``action``, or the code itself when none was registered."""
    return _LABELS.get(action, action)


def object_label(object_type: str, object_id: str, data: dict[str, object] | None = None) -> str:
    """What an event is about, in words: ``approvals.application`` + ``17`` → "application 17";
    a list read (``*``) → "applications (list)"; a page named by its route → "page /path/"."""
    from django.apps import apps

    app_label, _dot, model_name = object_type.partition(".")
    model = None
    if _dot and app_label in apps.app_configs:
        try:
            model = apps.get_model(app_label, model_name.split(".")[0])
        except LookupError:
            model = None
    if model is not None:
        if object_id == "*":
            return str(_("%(objects)s (list)") % {"objects": model._meta.verbose_name_plural})
        return f"{model._meta.verbose_name} {object_id}"
    path = (data or {}).get("path")
    if isinstance(path, str) and path:
        return str(_("page %(path)s") % {"path": path})
    return str(_("page")) if object_id == "*" else f"{object_id}"
