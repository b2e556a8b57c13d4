"""The working-day calendar: exceptions to "Monday–Friday are working days", versioned.

Every change creates a ``CalendarVersion``; rows carry the version that added them and the one that
removed them, so the calendar *as of* any version can be rebuilt and a deadline computed with an
old version is reproducible after the calendar changes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CalendarVersion(models.Model):
    number = models.PositiveIntegerField(_("version"), unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=300)

    class Meta:
        verbose_name = _("calendar version")
        verbose_name_plural = _("calendar versions")
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"v{self.number}: {self.note}"


class CalendarYear(models.Model):
    """A year whose holidays and make-up working days have been entered (published by the State Council)."""

    class Source(models.TextChoices):
        PACKAGE = "chinese_calendar", _("chinese-calendar package")
        MANUAL = "manual", _("entered by an administrator")

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    source = models.CharField(_("source"), max_length=32, choices=Source.choices)
    added_in = models.ForeignKey(
        CalendarVersion, verbose_name=_("added in version"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """A weekday that is a holiday, or a weekend day that is a make-up working day (调休)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday (no work)")
        WORKDAY = "workday", _("Make-up working day")

    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    added_in = models.ForeignKey(
        CalendarVersion, verbose_name=_("added in version"), on_delete=models.PROTECT, related_name="+"
    )
    removed_in = models.ForeignKey(
        CalendarVersion,
        verbose_name=_("removed in version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["date"],
                condition=Q(removed_in__isnull=True),
                name="calendarday_one_current_entry_per_date",
                violation_error_message=_("This date already has an entry in the current calendar."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()} {self.name}"
