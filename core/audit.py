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
}


def register_action_labels(labels: dict[str, str | Promise]) -> None:
    _LABELS.update(labels)


def action_label(action: str) -> str | Promise:
    """The label of ``action``, or the code itself when none was registered."""
    return _LABELS.get(action, action)
