from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ledger_defaults(sender: AppConfig, using: str = "default", **kwargs: object) -> None:
    """After every migrate and every flush: the entry-kind catalogue and the chain head row."""
    from credit.ledger.services import entry_kinds_ensure, ledger_head_ensure

    entry_kinds_ensure()
    ledger_head_ensure()


class CreditConfig(AppConfig):
    name = "credit"
    verbose_name = _("Enterprise credit")

    def ready(self) -> None:
        from core.audit import register_action_labels
        from credit import notices  # noqa: F401  (registers the notice kinds)

        post_migrate.connect(_ledger_defaults, sender=self, dispatch_uid="credit_ledger_defaults")
        register_action_labels(
            {
                "enterprise.registered": _("Enterprise registered"),
                "enterprise.profile_changed": _("Name or legal representative changed"),
                "membership.requested": _("Membership requested"),
                "membership.confirmed": _("Membership confirmed"),
                "membership.rejected": _("Membership rejected"),
                "membership.revoked": _("Membership revoked"),
                "credit.entry_appended": _("Credit entry recorded"),
                "credit.kind_revised": _("Credit entry kind revised"),
                "credit.manual_proposed": _("Manual credit entry proposed"),
                "credit.manual_approved": _("Manual credit entry approved"),
                "credit.manual_rejected": _("Manual credit entry rejected"),
                "credit.objection_submitted": _("Objection submitted"),
                "credit.request_due_recomputed": _("Decision deadline recomputed on the entered calendar"),
                "credit.policy_review_due_recomputed": _("Review deadline recomputed on the entered calendar"),
                "credit.objection_granted": _("Objection granted"),
                "credit.objection_refused": _("Objection refused"),
                "credit.repair_submitted": _("Credit repair requested"),
                "credit.repair_granted": _("Credit repair granted"),
                "credit.repair_refused": _("Credit repair refused"),
                "credit.import_batch": _("Credit records imported"),
                "credit.ledger_verified": _("Credit ledger verified"),
            }
        )
