"""What the efficiency screens share (the staff dashboard and the public ranking): the filter
forms and the one way a figure is written, on the page and in the CSV export alike."""

from __future__ import annotations

import datetime
import re
from typing import Any

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from approvals.models import ApprovalItem
from approvals.supervision import dashboard
from core import dates

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def month_parse(raw: str) -> datetime.date | None:
    """``YYYY-MM`` → the first day of that month; ``None`` for anything else."""
    if not _MONTH.match(raw or ""):
        return None
    year, month = raw.split("-")
    try:
        return datetime.date(int(year), int(month), 1)
    except ValueError:
        return None


class MonthInput(forms.TextInput):
    input_type = "month"


class MonthField(forms.Field):
    widget = MonthInput
    default_error_messages = {"invalid": _("Enter a month as YYYY-MM, e.g. 2026-03.")}

    def to_python(self, value: Any) -> datetime.date | None:
        text = str(value or "").strip()
        if not text:
            return None
        month = month_parse(text[:20])
        if month is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return month


class DashboardFilterForm(forms.Form):
    """The dashboard's filters, all optional (GET). The department is checked by the view (a
    department the viewer may not read is a 404, not a form error)."""

    start = MonthField(label=_("From month"), required=False)
    end = MonthField(label=_("To month"), required=False)
    department = forms.IntegerField(label=_("Department"), required=False, min_value=1, widget=forms.HiddenInput)
    item = forms.ModelChoiceField(
        label=_("Item"), required=False, queryset=ApprovalItem.objects.order_by("code"), to_field_name="pk"
    )
    grouping = forms.ChoiceField(label=_("Group by"), required=False, choices=dashboard.GROUPINGS)

    def __init__(self, *args: Any, today: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["item"].label_from_instance = lambda item: item.code  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        default = dashboard.period_default(today=self.today)
        given_start: datetime.date | None = data.get("start")
        given_end: datetime.date | None = data.get("end")
        if given_start is not None and given_end is not None:
            start, end = given_start, given_end
        elif given_start is not None:
            start, end = given_start, max(given_start, min(dates.add_months(given_start, 11), default.last))
        elif given_end is not None:
            start, end = dates.add_months(given_end, -11), given_end
        else:
            start, end = default.first, default.last
        if start > end:
            raise forms.ValidationError(_("The first month comes after the last one."), code="period_reversed")
        if end > default.last:
            raise forms.ValidationError(_("The period cannot end after this month."), code="period_future")
        if len(dashboard.Period(start, end).months) > dashboard.MAX_MONTHS:
            raise forms.ValidationError(
                _("A period is at most %(months)s months.") % {"months": dashboard.MAX_MONTHS}, code="period_too_long"
            )
        data["period"] = dashboard.Period(start, end)
        data["grouping"] = data.get("grouping") or dashboard.DEPARTMENT
        return data


def cell(value: dashboard.Value) -> str:
    """A figure as text: a count, working days with one decimal, a rate in per cent; "—" for none."""
    if value is None:
        return "—"
    if isinstance(value, dashboard.Rate):
        percent = value.percent
        return "—" if percent is None else f"{formats.number_format(percent, 1)} %"
    if isinstance(value, float):
        return formats.number_format(value, 1)
    return str(value)
