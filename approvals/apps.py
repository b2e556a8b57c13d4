import datetime

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _lenient_due(start: datetime.date, days: int) -> tuple[datetime.date, bool]:
    from approvals.calendar import clock
    from approvals.calendar.selectors import calendar_load

    due = clock.due_after(start, days, calendar=calendar_load())
    return due.on, due.provisional


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = _("Approvals")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from approvals.applications import notices, staff_notices  # noqa: F401  (register the notice kinds)
        from approvals.calendar.selectors import add_working_days
        from approvals.ratings import notices as rating_notices
        from approvals.supervision import integrity_services  # noqa: F401  (register the notice kinds)
        from core.audit import register_action_labels
        from core.working_days import working_days_provider_register

        working_days_provider_register(lambda start, days: add_working_days(start, days), _lenient_due)
        post_migrate.connect(_sync_role_groups, sender=self)

        register_action_labels(
            {
                "jurisdiction.created": _("Jurisdiction created"),
                "department.created": _("Department created"),
                "role.granted": _("Role granted"),
                "role.revoked": _("Role revoked"),
                "delegation.created": _("Delegation recorded"),
                "delegation.revoked": _("Delegation ended"),
                "efficiency.close_facts_backfilled": _("Close facts of closed cases filled in"),
                "account.sso_login": _("Signed in through the provincial identity service"),
                "account.sso_refused": _("Sign-in through the provincial identity service refused"),
                "membership.sso_verified": _("Membership confirmed by the provincial identity service"),
            }
        )
        register_action_labels(
            {
                "integrity_alert.raised": _("Integrity alert raised"),
                "integrity_alert.dismissed": _("Integrity alert dismissed"),
                "integrity_alert.referred": _("Integrity alert referred to discipline inspection"),
            }
        )
        register_action_labels(rating_notices.ACTION_LABELS)


def _sync_role_groups(**kwargs: object) -> None:
    """After every migrate, give each bureau-wide role's group exactly the permissions the code
    lists (``approvals.organisation.roles``), so a new permission reaches existing administrators too."""
    from django.contrib.auth.models import Permission

    from approvals.organisation.roles import GLOBAL_ROLE_PERMISSIONS
    from approvals.organisation.services import role_group_ensure, staff_base_group_ensure

    if not Permission.objects.filter(content_type__app_label="approvals").exists():
        return
    for role in GLOBAL_ROLE_PERMISSIONS:
        role_group_ensure(role=role)
    staff_base_group_ensure()
