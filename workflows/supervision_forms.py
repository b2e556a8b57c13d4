"""Forms of the commitment route (portal) and of the inspection pages (staff)."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from approvals.models import Inspection, InspectionTask
from core.uploads import CheckedFileField

CHECK_ANSWERS = [("ok", _("Conforms")), ("not_ok", _("Does not conform")), ("na", _("Not applicable"))]
MAX_ATTACHMENTS = 10


class CommitmentSignForm(forms.Form):
    signer_name = forms.CharField(
        label=_("Legal representative's name"),
        max_length=100,
        help_text=_("Type the name exactly as registered: this is your signature."),
    )
    confirmed = forms.BooleanField(
        label=_("I have read the notification, the enterprise meets the conditions, and I accept the liability."),
        required=True,
    )
    shown_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(CheckedFileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("max_bytes_setting", "MATERIAL_MAX_BYTES")
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_ATTACHMENTS:
            raise forms.ValidationError(
                _("At most %(count)d attachments."), code="too_many_files", params={"count": MAX_ATTACHMENTS}
            )
        return [single(item, initial) for item in files]


class InspectionForm(forms.Form):
    inspected_on = forms.DateField(
        label=_("Inspected on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    findings = forms.CharField(label=_("Findings"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    result = forms.ChoiceField(label=_("Result"), widget=forms.RadioSelect)
    rectification_requirements = forms.CharField(
        label=_("What must be rectified"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    rectification_deadline = forms.DateField(
        label=_("Rectify by"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    attachments = MultipleFileField(label=_("Attachments (photos, scans)"), required=False)

    def __init__(
        self, *args: Any, task: InspectionTask, checklist: list[str], results: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.checklist_lines = checklist
        labels = dict(Inspection.Result.choices)
        self.fields["result"].choices = [(value, labels[value]) for value in results]
        self.fields["inspected_on"].initial = timezone.localdate()
        for index, line in enumerate(checklist):
            self.fields[f"check_{index}"] = forms.ChoiceField(
                label=line, choices=CHECK_ANSWERS, widget=forms.RadioSelect
            )
        if "rectify" not in results:
            del self.fields["rectification_requirements"]
            del self.fields["rectification_deadline"]
        checks = [f"check_{index}" for index in range(len(checklist))]
        self.order_fields(["inspected_on", *checks, "findings", "result"])

    def checklist_answers(self) -> dict[str, str]:
        return {line: self.cleaned_data[f"check_{index}"] for index, line in enumerate(self.checklist_lines)}

    def clean_inspected_on(self) -> datetime.date:
        value: datetime.date = self.cleaned_data["inspected_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The inspection date cannot be in the future."), code="date_invalid")
        return value


class RectificationReportForm(forms.Form):
    report = forms.CharField(label=_("What was rectified"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
