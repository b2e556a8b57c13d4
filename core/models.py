"""The shared kernel: the user model and the append-only audit trail. Knows no other app of ours."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("Enterprise user")
        STAFF = "staff", _("Bureau staff")
        # The service account of another authority's system (an OAuth2 client): every write that
        # system makes is attributed to it; it never signs in to a screen.
        SYSTEM = "system", _("System account of another authority")

    kind = models.CharField(_("account kind"), max_length=16, choices=Kind.choices, default=Kind.ENTERPRISE)
    display_name = models.CharField(_("full name"), max_length=100, blank=True)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    # The language notices reach the user in: the one they last signed in with ("" before that:
    # the site's default).
    language = models.CharField(_("language"), max_length=10, blank=True)
    # The bureau's staff number (工号): how the provincial identity service names a staff member
    # at single sign-on (``approvals.organisation.sso``). Entered by an administrator, never by SSO.
    employee_id = models.CharField(_("employee id"), max_length=64, blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                fields=["employee_id"],
                condition=~Q(employee_id=""),
                name="user_employee_id_unique",
                violation_error_message=_("Another account already has this employee id."),
            ),
            models.CheckConstraint(
                condition=Q(employee_id="") | Q(kind="staff"),
                name="user_employee_id_only_staff",
                violation_error_message=_("Only bureau staff accounts have an employee id."),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_enterprise_user(self) -> bool:
        return self.kind == self.Kind.ENTERPRISE

    @property
    def is_bureau_staff(self) -> bool:
        return self.kind == self.Kind.STAFF

    @property
    def is_system_account(self) -> bool:
        return self.kind == self.Kind.SYSTEM


class ExternalIdentity(models.Model):
    """A person as the provincial identity service (OpenID Connect) names them: ``subject`` at
    ``issuer``, linked to the account they sign in to.

    Written only by ``approvals.organisation.sso`` at a successful single sign-on of an enterprise's
    legal representative; staff are found by ``User.employee_id`` instead. Read-only in the admin.
    """

    issuer = models.CharField(_("issuer"), max_length=255)
    subject = models.CharField(_("subject"), max_length=255)
    user = models.ForeignKey(
        "core.User", verbose_name=_("user"), on_delete=models.CASCADE, related_name="external_identities"
    )
    created_at = models.DateTimeField(_("linked at"), auto_now_add=True)
    last_login_at = models.DateTimeField(_("last signed in at"), null=True, blank=True)

    class Meta:
        verbose_name = _("single sign-on identity")
        verbose_name_plural = _("single sign-on identities")
        ordering = ["issuer", "subject"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "subject"],
                name="externalidentity_one_user_per_subject",
                violation_error_message=_("This identity is already linked to an account."),
            ),
            models.UniqueConstraint(
                fields=["issuer", "user"],
                name="externalidentity_one_subject_per_user",
                violation_error_message=_("This account is already linked to another identity of this issuer."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} @ {self.issuer} → {self.user}"


class AppendOnlyModel(models.Model):
    """Rows are written once: no update, no delete through the ORM. (The credit ledger adds
    database triggers on top; these trails are guarded in the application.)"""

    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError(f"{type(self).__name__} is append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValueError(f"{type(self).__name__} is append-only.")


class AuditEvent(AppendOnlyModel):
    """One immutable line of the audit trail: who did what to which object, when.

    Written by the service that makes the change, in the same transaction, so a change and its
    audit line commit or roll back together. ``object_type`` is ``"<app_label>.<model>"`` and
    ``object_id`` a string, so the trail can name objects of any app without a foreign key.
    """

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        "core.User", verbose_name=_("actor"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    data = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="auditevent_object")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"


# The outbox's models live in their own module; importing them here registers them with the app.
from core.api.models import AccessToken, IdempotencyRecord  # noqa: E402, F401
from core.outbox.models import Delivery, NoticePreference, OutboxMessage, ScheduledJob, SiteMessage  # noqa: E402, F401
from core.system_accounts.models import SystemAccount  # noqa: E402, F401
from core.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription  # noqa: E402, F401
