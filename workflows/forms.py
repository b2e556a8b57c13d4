"""Forms of the staff task pages and the enterprise portal."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from approvals.models import ApprovalItemVersion, ClockEvent, Decision, ReviewOpinion, SupplementNotice
from core.uploads import CheckedFileField


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
        label=_("Excluded period (art. 45)"),
        choices=[(value, label) for value, label in ClockEvent.Reason.choices if value != ClockEvent.Reason.SUPPLEMENT],
    )
    comment = forms.CharField(label=_("Description"), max_length=2000)


class ExtendForm(forms.Form):
    days = forms.IntegerField(label=_("Extra working days"), min_value=1, max_value=60)
    reason = forms.CharField(label=_("Reason"), max_length=2000)


class ReassignForm(forms.Form):
    username = forms.CharField(label=_("Colleague's user name"), max_length=150)


class ApplicationForm(forms.Form):
    """The applicant's part of the form (the same for every item in this release)."""

    enterprise = forms.TypedChoiceField(label=_("Applying enterprise"), coerce=int)
    project_name = forms.CharField(label=_("Project or business name"), max_length=200)
    project_address = forms.CharField(label=_("Address"), max_length=300)
    description = forms.CharField(label=_("Description"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    contact_name = forms.CharField(label=_("Contact person"), max_length=100)
    contact_phone = forms.RegexField(
        label=_("Contact phone"),
        regex=r"^[0-9+\-() ]{7,20}$",
        error_messages={"invalid": _("Enter a valid phone number.")},
    )
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    FORM_DATA_FIELDS = ("project_name", "project_address", "description", "contact_name", "contact_phone")

    def __init__(self, *args: Any, enterprises: list[Any], item_version: ApprovalItemVersion, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].choices = [(e.pk, f"{e.name} ({e.uscc})") for e in enterprises]
        self.material_fields: list[tuple[Any, str]] = []
        for material in item_version.materials.all():
            name = f"material_{material.pk}"
            help_text = material.description
            self.fields[name] = CheckedFileField(
                label=material.name, required=False, help_text=help_text, max_bytes_setting="MATERIAL_MAX_BYTES"
            )
            self.fields[name].material = material  # type: ignore[attr-defined]
            # Checked at submission (a draft may be saved without it), so say what is needed.
            if material.mandatory and not material.may_be_missing:
                hint = _("required to submit")
            elif material.mandatory:
                hint = _("may be supplied after acceptance (容缺受理)")
            else:
                hint = _("optional")
            self.fields[name].hint = hint  # type: ignore[attr-defined]
            self.material_fields.append((material, name))

    def form_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.FORM_DATA_FIELDS}


class SupplementAnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Your answer"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, notice: SupplementNotice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One slot per item the notice lists: a catalogue material must be sent; an item outside
        # the catalogue takes a file or an explanation in the answer.
        self.other_slots: list[str] = []
        for index, item in enumerate(notice.items):
            if item.get("material") is not None:
                self.fields[f"material_{int(item['material'])}"] = CheckedFileField(
                    label=item["name"], required=True, max_bytes_setting="MATERIAL_MAX_BYTES"
                )
            else:
                name = f"other_{index}"
                self.other_slots.append(name)
                self.fields[name] = CheckedFileField(
                    label=item["name"],
                    required=False,
                    max_bytes_setting="MATERIAL_MAX_BYTES",
                    help_text=_("Attach it, or explain in your answer why it is not needed."),
                )
        self.order_fields([*(f for f in self.fields if f != "answer"), "answer"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.other_slots and not any(cleaned.get(n) for n in self.other_slots) and not cleaned.get("answer"):
            self.add_error("answer", forms.ValidationError(_("Attach the other items or explain."), code="required"))
        return cleaned

    def uploads(self) -> list[tuple[int | None, Any]]:
        """(material id or None, file) for every slot that carries a file."""
        found: list[tuple[int | None, Any]] = []
        for name, value in self.cleaned_data.items():
            if value and name.startswith("material_"):
                found.append((int(name.removeprefix("material_")), value))
            elif value and name in self.other_slots:
                found.append((None, value))
        return found


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=1000)


def application_field_labels() -> dict[str, Any]:
    """The filing form's label of each stored form-data field, for the facts table of a case."""
    return {name: ApplicationForm.base_fields[name].label for name in ApplicationForm.FORM_DATA_FIELDS}
