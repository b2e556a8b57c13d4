"""Integrity alerts (廉政监管): a finding of a rule of ``approvals.supervision.integrity``, stored once
per rule, person, subject and period, with its evidence, and the supervisor's disposition."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from approvals.applications.models import Application
from approvals.organisation.models import Department


class IntegrityAlert(models.Model):
    """Open until a supervisor disposes of it, once: dismissed with reasons, or referred to the
    discipline inspection body (纪检监察) with reasons. The disposition is never changed."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DISMISSED = "dismissed", _("Dismissed")
        REFERRED = "referred", _("Referred to discipline inspection")

    OPEN_STATUSES = (Status.OPEN,)
    DISPOSITIONS = (Status.DISMISSED, Status.REFERRED)

    rule = models.CharField(_("rule"), max_length=48)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person concerned"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject = models.CharField(_("subject"), max_length=100)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period until (exclusive)"))
    # rule + person + subject + period: the same finding found by a second scan is the same alert.
    dedupe_key = models.CharField(_("dedupe key"), max_length=255, unique=True)
    evidence = models.JSONField(_("evidence"), default=dict, encoder=DjangoJSONEncoder)
    applications = models.ManyToManyField(
        Application, verbose_name=_("applications concerned"), blank=True, related_name="integrity_alerts"
    )
    raised_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    disposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("disposed of by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    disposed_at = models.DateTimeField(_("disposed of at"), null=True, blank=True)
    disposition_reasons = models.TextField(_("reasons"), blank=True)

    class Meta:
        verbose_name = _("integrity alert")
        verbose_name_plural = _("integrity alerts")
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["status", "-raised_at"], name="integrityalert_status_recent")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(status="open")
                    & Q(disposed_by__isnull=True)
                    & Q(disposed_at__isnull=True)
                    & Q(disposition_reasons="")
                )
                | (
                    Q(status__in=["dismissed", "referred"])
                    & Q(disposed_by__isnull=False)
                    & Q(disposed_at__isnull=False)
                    & ~Q(disposition_reasons="")
                ),
                name="integrityalert_disposed_has_who_when_why",
                violation_error_message=_("A disposed alert records who disposed of it, when and why."),
            ),
            models.CheckConstraint(
                condition=Q(disposed_by__isnull=True) | ~Q(disposed_by=F("person")),
                name="integrityalert_not_disposed_by_person_concerned",
                violation_error_message=_("Nobody disposes of an alert about themselves."),
            ),
            models.CheckConstraint(
                condition=Q(period_start__lt=F("period_end")),
                name="integrityalert_period_ordered",
                violation_error_message=_("A period ends after it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN
