from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = _("Approvals")

    def ready(self) -> None:
        from core.audit import register_action_labels

        register_action_labels(
            {
                "jurisdiction.created": _("Jurisdiction created"),
                "department.created": _("Department created"),
                "role.granted": _("Role granted"),
                "role.revoked": _("Role revoked"),
                "delegation.created": _("Delegation recorded"),
                "delegation.revoked": _("Delegation ended"),
            }
        )
