"""The staff workbench's forms: the accept, review and decide steps, clock actions, reassignment, inspections, campaigns."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from approvals.models import (
    ApprovalItemVersion,
    ClockEvent,
    Decision,
    Inspection,
    InspectionTask,
    ReviewOpinion,
)
from core.uploads import CheckedFileField

CHECK_ANSWERS = [("ok", _("Conforms")), ("not_ok", _("Does not conform")), ("na", _("Not applicable"))]


MAX_ATTACHMENTS = 10


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


class MaterialChoiceMixin:
    def _materials(self, version: ApprovalItemVersion) -> None:
        self.fields["material_ids"].choices = [(m.pk, m.name) for m in version.materials.all()]  # type: ignore[attr-defined]


class AcceptForm(MaterialChoiceMixin, forms.Form):
    DECISIONS = [
        ("accept", _("Accept: the application is complete")),
        ("supplement", _("Send the supplement notice (补正), listing everything missing")),
        ("not_accept", _("Do not accept (不予受理), with reasons")),
    ]
    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect)
    material_ids = forms.TypedMultipleChoiceField(
        label=_("Missing or insufficient materials"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    other = forms.CharField(label=_("Other missing items"), required=False, max_length=500)
    text = forms.CharField(
        label=_("Message to the applicant / reasons"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )

    def __init__(self, *args: Any, item_version: ApprovalItemVersion, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._materials(item_version)


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Opinion"),
        choices=[
            (ReviewOpinion.Outcome.AGREE, ReviewOpinion.Outcome.AGREE.label),
            (ReviewOpinion.Outcome.DISAGREE, ReviewOpinion.Outcome.DISAGREE.label),
            (ReviewOpinion.Outcome.AGREE_FORWARD, ReviewOpinion.Outcome.AGREE_FORWARD.label),
        ],
        widget=forms.RadioSelect,
    )
    reasons = forms.CharField(
        label=_("Reasons"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required for 不同意: a disagreement without reasons is recorded as deemed consent."),
    )


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Decision"), choices=Decision.Outcome.choices, widget=forms.RadioSelect)
    reasons = forms.CharField(
        label=_("Reasons"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    override_justification = forms.CharField(
        label=_("Why approve over a department's objection"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SupplementAfterForm(MaterialChoiceMixin, forms.Form):
    material_ids = forms.TypedMultipleChoiceField(
        label=_("Materials to supply"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    other = forms.CharField(label=_("Other items"), required=False, max_length=500)
    message = forms.CharField(
        label=_("Message to the applicant"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, item_version: ApprovalItemVersion, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._materials(item_version)


class SuspendForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Ground (art. 45)"),
        choices=[(value, label) for value, label in ClockEvent.Reason.choices if value in ClockEvent.ART45_GROUNDS],
    )
    expected_days = forms.IntegerField(
        label=_("Expected duration (working days)"),
        min_value=1,
        max_value=250,
        help_text=_("Told to the applicant in writing (art. 45)."),
    )
    comment = forms.CharField(label=_("Description"), max_length=2000)


class ExtendForm(forms.Form):
    days = forms.IntegerField(label=_("Extra working days"), min_value=1, max_value=15)
    reason = forms.CharField(label=_("Reason"), max_length=2000)


class ExtensionDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("refuse", _("Refuse"))], widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment (required to refuse)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReassignForm(forms.Form):
    username = forms.CharField(label=_("Colleague's user name"), max_length=150)
