"""The monthly roll-up of the efficiency dashboard (``approvals.supervision.rollup``): for each
complete month, the figures of the case and step sources per department × item × person × working
days, so a year of a province's cases is read from a few thousand rows instead of a million.

Derived data only: every cell is re-derivable from the cases (``manage.py efficiency_rollup
--verify`` compares), a month without a marker is read live from the cases, and a change to a
rolled month's facts removes its marker and cells."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from approvals.catalogue.models import ApprovalItem
from approvals.organisation.models import Department


class EfficiencyMonth(models.Model):
    """A month whose cells are complete: the dashboard reads this month from ``EfficiencyCell``."""

    month = models.DateField(_("month"), unique=True)
    rolled_at = models.DateTimeField(_("rolled up at"))
    cells = models.PositiveIntegerField(_("cells"))

    class Meta:
        verbose_name = _("rolled-up month")
        verbose_name_plural = _("rolled-up months")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class EfficiencyCell(models.Model):
    """The figures of one source's rows of one month that share department, item, person and (for
    closed cases) working days taken. Each measure is its figure's own aggregate over those rows
    (``dashboard.FIGURES``), so summing cells gives what the aggregate over the cases gives, and the
    working days with ``rows`` as weights give the same percentiles."""

    month = models.DateField(_("month"))
    source = models.CharField(_("source"), max_length=16)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    item = models.ForeignKey(
        ApprovalItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
    )
    days = models.PositiveSmallIntegerField(_("working days taken"), null=True, blank=True)
    rows = models.PositiveIntegerField(_("rows"))
    on_time_promised = models.PositiveIntegerField(default=0)
    on_time_statutory = models.PositiveIntegerField(default=0)
    supplemented = models.PositiveIntegerField(default=0)
    suspended_days = models.PositiveIntegerField(default=0)
    deemed_accepted = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("roll-up cell")
        verbose_name_plural = _("roll-up cells")
        indexes = [
            models.Index(fields=["source", "month", "department"], name="efficiency_cell_by_month"),
            models.Index(fields=["month"], name="efficiency_cell_month"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.month:%Y-%m}"
