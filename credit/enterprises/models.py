"""Credit subjects (enterprises) and the people who act for them: the enterprise identity the
ledger, the grades and the policies all hang on."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Enterprise(models.Model):
    """An enterprise as a credit subject, identified by its unified social credit code.

    ``name`` and ``legal_representative`` are the current values; every value they ever had is in
    ``EnterpriseProfileChange`` (written by the service that changes them, in the same transaction).
    """

    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(_("enterprise name"), max_length=200)
    legal_representative = models.CharField(_("legal representative"), max_length=100)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        ordering = ["name", "id"]
        permissions = [
            ("work_credit_office", _("Can work as the credit office")),
            ("work_policy_office", _("Can work as the policy office")),
            ("audit_credit", _("Can read every enterprise's credit records as an auditor")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(uscc__regex=r"^[0-9]{8}[0-9A-HJ-NPQRTUWXY]{10}$"),
                name="enterprise_uscc_normalised",
                violation_error_message=_("The unified social credit code must be stored in its normalised form."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.uscc})"


class EnterpriseProfileChange(models.Model):
    """One version of an enterprise's registered name and legal representative.

    Append-only: the first row records the values at registration, each later row a change, with
    the date it took effect (from the business-registration record) and who recorded it.
    """

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="profile_changes"
    )
    name = models.CharField(_("enterprise name"), max_length=200)
    legal_representative = models.CharField(_("legal representative"), max_length=100)
    effective_on = models.DateField(_("effective on"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("enterprise name / legal representative change")
        verbose_name_plural = _("enterprise name / legal representative history")
        ordering = ["enterprise", "effective_on", "id"]

    def __str__(self) -> str:
        return f"{self.effective_on:%Y-%m-%d} {self.name} / {self.legal_representative}"


class Membership(models.Model):
    """A user acting for an enterprise, as legal representative or as authorised agent (代办).

    A membership grants access only while it is confirmed and, for an agent, while today lies in
    the authorisation's validity period (see ``credit.enterprises.selectors.memberships_active``).
    """

    class Role(models.TextChoices):
        LEGAL_REPRESENTATIVE = "legal_rep", _("Legal representative")
        AGENT = "agent", _("Authorised agent")

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        REJECTED = "rejected", _("Rejected")
        REVOKED = "revoked", _("Revoked")

    OPEN_STATUSES = (Status.PENDING, Status.CONFIRMED)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="memberships"
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    authorisation_document = models.FileField(
        _("letter of authorisation"), upload_to="authorisations/%Y/%m/", blank=True
    )
    # Recorded at upload by ``core.uploads.upload_check``: the download answers with this type,
    # never one guessed from a name.
    authorisation_document_name = models.CharField(_("letter's file name"), max_length=255, blank=True)
    authorisation_document_type = models.CharField(_("letter's type"), max_length=64, blank=True)
    authorisation_document_sha256 = models.CharField(_("letter's SHA-256"), max_length=64, blank=True)
    valid_from = models.DateField(_("authorised from"), null=True, blank=True)
    valid_until = models.DateField(_("authorised until"), null=True, blank=True)
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("enterprise membership")
        verbose_name_plural = _("enterprise memberships")
        ordering = ["enterprise", "user", "id"]
        permissions = [("confirm_membership", _("Can confirm or reject enterprise memberships"))]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "enterprise"],
                condition=Q(status__in=["pending", "confirmed"]),
                name="membership_one_open_per_user_and_enterprise",
                violation_error_message=_("This user already has an open membership of this enterprise."),
            ),
            models.CheckConstraint(
                condition=Q(role="legal_rep") | (Q(valid_from__isnull=False) & Q(valid_until__isnull=False)),
                name="membership_agent_has_validity_period",
                violation_error_message=_("An authorised agent needs an authorisation validity period."),
            ),
            models.CheckConstraint(
                condition=Q(role="legal_rep") | ~Q(authorisation_document=""),
                name="membership_agent_has_authorisation_document",
                violation_error_message=_("An authorised agent needs a letter of authorisation."),
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="membership_validity_period_ordered",
                violation_error_message=_("The authorisation cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False),
                name="membership_decided_has_decided_at",
                violation_error_message=_("A confirmed, rejected or revoked membership records when it was decided."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.enterprise.name} ({self.get_role_display()})"

    def grants_access_on(self, day: datetime.date) -> bool:
        if self.status != self.Status.CONFIRMED:
            return False
        if self.role == self.Role.LEGAL_REPRESENTATIVE:
            return True
        assert self.valid_from is not None and self.valid_until is not None
        return self.valid_from <= day <= self.valid_until
