"""One row per system of another authority that may call the API."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings


class AuthorityKind(models.TextChoices):
    CREDIT_PLATFORM = "credit_platform", _("Credit information platform (信用平台)")
    COURT = "court", _("Court (法院)")
    TAX = "tax", _("Tax authority (税务)")
    BANK = "bank", _("Bank (银行)")
    AUTHORITY = "authority", _("Other administrative authority")


class SystemAccount(models.Model):
    """An OAuth2 client of another authority. ``authority`` is the name its records carry into the
    credit ledger (``deciding_authority``); ``scopes`` bounds what a token of this client may be
    granted and is re-checked on every call, so withdrawing a scope (or deactivating the account)
    takes effect at once, whatever tokens are still out."""

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL,
        verbose_name=_("OAuth2 client"),
        on_delete=models.PROTECT,
        related_name="system_account",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("service account"),
        on_delete=models.PROTECT,
        related_name="system_account",
    )
    authority = models.CharField(
        _("authority"),
        max_length=200,
        help_text=_("As its records name it, e.g. 沈阳市中级人民法院; recorded as the deciding authority."),
    )
    authority_kind = models.CharField(_("kind of authority"), max_length=20, choices=AuthorityKind.choices)
    scopes = models.JSONField(_("allowed scopes"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("system account")
        verbose_name_plural = _("system accounts")
        ordering = ["authority", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(authority=""),
                name="systemaccount_names_its_authority",
                violation_error_message=_("Name the authority the system speaks for."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.authority} ({self.application.name})"

    def allows(self, scope: str) -> bool:
        return self.is_active and scope in self.scopes
