from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    name = "credit"
    verbose_name = _("Enterprise credit")

    def ready(self) -> None:
        from core.audit import register_action_labels

        register_action_labels(
            {
                "enterprise.registered": _("Enterprise registered"),
                "enterprise.profile_changed": _("Name or legal representative changed"),
                "membership.requested": _("Membership requested"),
                "membership.confirmed": _("Membership confirmed"),
                "membership.rejected": _("Membership rejected"),
                "membership.revoked": _("Membership revoked"),
            }
        )
