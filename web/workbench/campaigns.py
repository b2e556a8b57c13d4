"""Random-inspection campaigns for the organising department: list, create, ratios, recusals, freeze, draw."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from approvals import permissions
from approvals.models import (
    ApprovalItem,
    ApprovalItemVersion,
    Campaign,
    CampaignInspector,
    CampaignRecusal,
    CampaignTarget,
    Department,
    InspectionTask,
)
from approvals.supervision import campaigns as services
from approvals.supervision import draw
from approvals.supervision import selectors as supervision_selectors
from approvals.supervision.selectors import inspectors_of
from core.exceptions import DomainError
from web.campaign_display import items_with_names, with_counts

PAGE_SIZE = 25


ROSTER_PAGE_SIZE = 50


SAMPLE_PAGE_SIZE = 100


Status = Campaign.Status


class RatioFields(forms.Form):
    """One decimal field per grade; the service validates the values."""

    def __init__(self, *args: Any, initial_ratios: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ratios = initial_ratios or draw.DEFAULT_RATIOS
        for grade in draw.GRADES:
            self.fields[f"ratio_{grade}"] = forms.CharField(
                label=gettext_lazy("Sampling ratio, grade %(grade)s") % {"grade": grade},
                initial=ratios.get(grade, ""),
                max_length=12,
                # Said once, under the first of the four fields.
                help_text=gettext_lazy(
                    "Each ratio is a decimal between 0 and 1: 0.05 draws one target in twenty, 1 draws every target."
                )
                if grade == draw.GRADES[0]
                else "",
                widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "mono", "size": 8}),
            )

    def ratios(self) -> dict[str, str]:
        return {grade: self.cleaned_data.get(f"ratio_{grade}", "") for grade in draw.GRADES}

    def ratio_fields(self) -> list[forms.BoundField]:
        return [self[f"ratio_{grade}"] for grade in draw.GRADES]


class ItemChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: ApprovalItem) -> str:
        name = getattr(obj, "published_name", None)
        return f"{obj.code} {name}" if name else obj.code


class CampaignForm(RatioFields):
    code = forms.CharField(
        label=gettext_lazy("Campaign code"),
        max_length=40,
        help_text=gettext_lazy("Public and part of every draw key: letters, digits, hyphens, e.g. SC-2026-01."),
        widget=forms.TextInput(attrs={"class": "mono"}),
    )
    name = forms.CharField(label=gettext_lazy("Campaign name"), max_length=200)
    department = forms.ModelChoiceField(label=gettext_lazy("Organising department"), queryset=Department.objects.none())
    items = ItemChoiceField(
        label=gettext_lazy("Approval items"),
        queryset=ApprovalItem.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Holders of a valid certificate of these items make up the target roster."),
    )
    inspection_due_on = forms.DateField(
        label=gettext_lazy("Inspections due on"), widget=forms.DateInput(attrs={"type": "date"})
    )

    field_order = ["code", "name", "department", "items", "inspection_due_on"]

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
        if len(departments) == 1:
            self.fields["department"].initial = departments[0].pk
        names = dict(
            ApprovalItemVersion.objects.filter(status=ApprovalItemVersion.Status.PUBLISHED).values_list(
                "item_id", "name"
            )
        )
        items = list(ApprovalItem.objects.filter(pk__in=list(names)).order_by("code"))
        for item in items:
            item.published_name = names.get(item.pk, "")  # type: ignore[attr-defined]
        field = self.fields["items"]
        field.queryset = ApprovalItem.objects.filter(pk__in=[item.pk for item in items]).order_by("code")
        # Labels from the list built above, without a query per item.
        field.choices = [(item.pk, field.label_from_instance(item)) for item in items]
        self.order_fields(self.field_order + [f"ratio_{grade}" for grade in draw.GRADES])

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if code.lower() == "new":  # the address of this form
            raise forms.ValidationError(_("This code is reserved; choose another."), code="code_invalid")
        return code


class RecusalForm(forms.Form):
    uscc = forms.CharField(
        label=gettext_lazy("Unified social credit code"), max_length=18, widget=forms.TextInput(attrs={"class": "mono"})
    )
    username = forms.ChoiceField(label=gettext_lazy("Inspector"))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300)

    def __init__(self, *args: Any, inspectors: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].choices = [(u.username, f"{u} ({u.username})") for u in inspectors]


class DrawForm(forms.Form):
    seed = forms.CharField(
        label=gettext_lazy("Seed"),
        max_length=services.SEED_MAX_LENGTH,
        help_text=gettext_lazy(
            "The public value exactly as published, e.g. the winning numbers of a lottery draw held after the "
            "freeze. It is used as typed, without surrounding spaces."
        ),
        widget=forms.TextInput(attrs={"class": "mono", "autocomplete": "off"}),
        strip=False,
    )
    seed_source = forms.CharField(
        label=gettext_lazy("Where the seed comes from"),
        max_length=services.SEED_SOURCE_MAX_LENGTH,
        help_text=gettext_lazy("Name the publication so that anyone can look the value up."),
    )
    confirmed = forms.BooleanField(
        label=gettext_lazy("I have checked the seed against its publication. The draw cannot be undone."),
    )


def _error(form: forms.Form, error: DomainError) -> None:
    form.add_error(None, forms.ValidationError(str(error.message), code=error.code))


def _require_organiser_any(request: HttpRequest) -> None:
    user = request.user
    if not (user.is_authenticated and user.is_bureau_staff and permissions.user_may_organise_any(user=user)):
        raise Http404


def _campaign_for_organiser(request: HttpRequest, code: str) -> Campaign:
    _require_organiser_any(request)
    campaign = supervision_selectors.campaigns_for_organiser(user=request.user).filter(code=code).first()
    if campaign is None:
        raise Http404
    return campaign


def _organiser_departments(request: HttpRequest) -> Any:
    departments = Department.objects.filter(is_active=True).order_by("code")
    if permissions.user_is_administrator(user=request.user):
        return departments
    return departments.filter(pk__in=permissions.department_ids_for(user=request.user, perm=permissions.DECIDE))


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    _require_organiser_any(request)
    campaigns = with_counts(supervision_selectors.campaigns_for_organiser(user=request.user)).order_by(
        "-created_at", "-id"
    )
    page = Paginator(campaigns, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "workbench/campaigns/list.html", {"page": page})


@login_required
def campaign_create(request: HttpRequest) -> HttpResponse:
    _require_organiser_any(request)
    departments = _organiser_departments(request)
    form = CampaignForm(request.POST or None, departments=departments)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(
                actor=request.user,
                code=form.cleaned_data["code"],
                name=form.cleaned_data["name"],
                department=form.cleaned_data["department"],
                items=form.cleaned_data["items"],
                ratios=form.ratios(),
                inspection_due_on=form.cleaned_data["inspection_due_on"],
            )
        except DomainError as error:
            _error(form, error)
        else:
            messages.success(request, _("Campaign %(code)s created as a draft.") % {"code": campaign.code})
            return redirect("campaigns:detail", code=campaign.code)
    return render(request, "workbench/campaigns/form.html", {"form": form})


def _grade_counts(campaign: Campaign) -> dict[str, int]:
    counts = dict.fromkeys(draw.GRADES, 0)
    for grade, number in (
        CampaignTarget.objects.filter(campaign=campaign).values_list("grade").annotate(n=Count("pk")).order_by()
    ):
        counts[grade] = number
    return counts


@login_required
def campaign_detail(request: HttpRequest, code: str) -> HttpResponse:
    campaign = _campaign_for_organiser(request, code)
    context: dict[str, Any] = {
        "campaign": campaign,
        "items": items_with_names(campaign),
        "ratios": [(grade, campaign.ratios.get(grade, "")) for grade in draw.GRADES],
    }
    if campaign.status == Status.DRAFT:
        inspectors = inspectors_of(department=campaign.department)
        context["ratios_form"] = RatioFields(initial_ratios=campaign.ratios, prefix="ratios")
        context["recusal_form"] = RecusalForm(inspectors=inspectors, prefix="recusal")
        context["recusals"] = list(CampaignRecusal.objects.filter(campaign=campaign).order_by("uscc", "username"))
        context["preview"] = supervision_selectors.campaign_roster_preview(campaign=campaign)
    else:
        counts = _grade_counts(campaign)
        context["grade_counts"] = [
            (grade, counts[grade], campaign.ratios.get(grade, ""), size)
            for grade, size in supervision_selectors.sample_size_preview(ratios=campaign.ratios, counts=counts).items()
        ]
        context["target_total"] = sum(counts.values())
        context["inspectors"] = list(
            CampaignInspector.objects.filter(campaign=campaign).select_related("user").order_by("username")
        )
        recusals = CampaignRecusal.objects.filter(campaign=campaign).order_by("uscc", "username")
        context["recusal_count"] = recusals.count()
        context["recusals"] = list(recusals[:200])
        targets = CampaignTarget.objects.filter(campaign=campaign).order_by("uscc")
        context["targets_page"] = Paginator(targets, ROSTER_PAGE_SIZE).get_page(request.GET.get("targets"))
        context["refused_draws"] = supervision_selectors.campaign_refused_draws(campaign=campaign)
    if campaign.status == Status.DRAWN:
        tasks = (
            InspectionTask.objects.filter(campaign=campaign)
            .select_related("enterprise", "inspector_1", "inspector_2")
            .order_by("draw_position", "id")
        )
        context["tasks_page"] = Paginator(tasks, SAMPLE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "workbench/campaigns/detail.html", context)


@login_required
@require_POST
def campaign_ratios(request: HttpRequest, code: str) -> HttpResponse:
    campaign = _campaign_for_organiser(request, code)
    form = RatioFields(request.POST, prefix="ratios")
    form.is_valid()
    try:
        services.campaign_ratios_set(actor=request.user, campaign=campaign, ratios=form.ratios())
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Sampling ratios saved."))
    return redirect("campaigns:detail", code=campaign.code)


@login_required
@require_POST
def campaign_recusal_add(request: HttpRequest, code: str) -> HttpResponse:
    campaign = _campaign_for_organiser(request, code)
    form = RecusalForm(request.POST, prefix="recusal", inspectors=inspectors_of(department=campaign.department))
    if not form.is_valid():
        messages.error(request, _("Give the credit code, the inspector and the reason."))
        return redirect("campaigns:detail", code=campaign.code)
    try:
        services.campaign_recusal_add(actor=request.user, campaign=campaign, **form.cleaned_data)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Recusal recorded."))
    return redirect("campaigns:detail", code=campaign.code)


@login_required
@require_POST
def campaign_recusal_remove(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    campaign = _campaign_for_organiser(request, code)
    try:
        services.campaign_recusal_remove(actor=request.user, campaign=campaign, recusal_id=pk)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Recusal withdrawn."))
    return redirect("campaigns:detail", code=campaign.code)


@login_required
@require_POST
def campaign_freeze(request: HttpRequest, code: str) -> HttpResponse:
    campaign = _campaign_for_organiser(request, code)
    try:
        services.campaign_freeze(actor=request.user, campaign=campaign)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request, _("Rosters frozen and their hashes published. Now wait for the public seed, then draw.")
        )
    return redirect("campaigns:detail", code=campaign.code)


@login_required
def campaign_draw(request: HttpRequest, code: str) -> HttpResponse:
    campaign = _campaign_for_organiser(request, code)
    if campaign.status != Status.FROZEN:
        messages.error(
            request,
            _("Freeze the rosters first: the seed is entered only after the freeze.")
            if campaign.status == Status.DRAFT
            else _("The draw of this campaign was refused; start a new campaign with corrected rosters.")
            if campaign.status == Status.REFUSED
            else _("This campaign has already been drawn."),
        )
        return redirect("campaigns:detail", code=campaign.code)
    form = DrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_draw(
                actor=request.user,
                campaign=campaign,
                seed=form.cleaned_data["seed"],
                seed_source=form.cleaned_data["seed_source"],
            )
        except DomainError as error:
            _error(form, error)
        else:
            messages.success(request, _("Drawn. The sample is published with its results page."))
            return redirect("campaigns:detail", code=campaign.code)
    counts = _grade_counts(campaign)
    context = {
        "campaign": campaign,
        "form": form,
        "target_total": sum(counts.values()),
        "inspector_total": CampaignInspector.objects.filter(campaign=campaign).count(),
    }
    return render(request, "workbench/campaigns/draw.html", context)
