"""Administrator screens of the random-inspection campaigns and recorded conflicts of interest.

Campaigns are created, frozen and drawn on the workbench pages (``approvals.supervision.campaigns``);
here an administrator reads them and may correct the name, items or due date of a draft. Everything
frozen is read-only, and roster rows are never edited here (the freeze builds them). Conflicts of
interest are recorded here and feed the automatic recusals of the next freeze.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from approvals import permissions
from approvals.models import Campaign, CampaignInspector, CampaignRecusal, CampaignTarget, InspectorConflict
from approvals.supervision import campaigns as campaign_services
from core.admin_forms import ModelAdmin, TabularInline
from core.exceptions import DomainError
from core.services import audit_event_record


def _administrator(request: HttpRequest) -> bool:
    return permissions.user_is_administrator(user=request.user)


def _reader(request: HttpRequest) -> bool:
    return _administrator(request) or permissions.user_is_auditor(user=request.user)


class _ReadOnlyInline(TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in self.model._meta.fields if f.name not in ("id", "campaign")]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _reader(request)


class CampaignInspectorInline(_ReadOnlyInline):
    model = CampaignInspector
    fields = ("username", "user")

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("user")


class CampaignRecusalInline(_ReadOnlyInline):
    model = CampaignRecusal
    fields = ("uscc", "username", "reason")


class CampaignAdminForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "items", "inspection_due_on", "ratios"]

    def clean_ratios(self) -> dict[str, str]:
        try:
            return campaign_services.ratios_clean(self.cleaned_data.get("ratios") or {})
        except DomainError as error:
            raise ValidationError(str(error.message), code=error.code) from None


@admin.register(Campaign)
class CampaignAdmin(ModelAdmin):
    form = CampaignAdminForm
    list_display = ("code", "name", "department", "status", "inspection_due_on", "frozen_at", "drawn_at")
    list_filter = ("status", "department")
    search_fields = ("code", "name")
    list_select_related = ("department",)
    filter_horizontal = ("items",)
    inlines = [CampaignInspectorInline, CampaignRecusalInline]
    _frozen_fields = (
        "code",
        "name",
        "department",
        "items",
        "ratios",
        "inspection_due_on",
        "status",
        "created_by",
        "created_at",
        "frozen_by",
        "frozen_at",
        "targets_sha256",
        "inspectors_sha256",
        "seed",
        "seed_source",
        "seed_entered_by",
        "drawn_at",
        "target_roster",
    )

    @admin.display(description=_("target roster"))
    def target_roster(self, obj: Campaign) -> str:
        # A roster may hold many thousands of rows: a link to the filtered list, not an inline.
        if obj.pk is None:
            return "—"
        url = reverse("admin:approvals_campaigntarget_changelist") + f"?campaign__id__exact={obj.pk}"
        count = CampaignTarget.objects.filter(campaign=obj).count()
        label = ngettext("%(count)s target", "%(count)s targets", count) % {"count": count}
        return format_html('<a href="{}">{}</a>', url, label)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self._frozen_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.status == Campaign.Status.DRAFT and _administrator(request):
            return tuple(f for f in self._frozen_fields if f not in CampaignAdminForm.Meta.fields)
        return self._frozen_fields

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _reader(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _reader(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Created on the workbench, where the service checks the organiser and the parameters.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _administrator(request) and (obj is None or obj.status == Campaign.Status.DRAFT)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        # The row may have been frozen since the form was opened (or is being frozen now): lock it
        # and write only the changed fields of a draft, never a stale copy of the whole row.
        with transaction.atomic():
            locked = Campaign.objects.select_for_update().filter(pk=obj.pk, status=Campaign.Status.DRAFT).first()
            if locked is None:
                raise ValidationError(_("This campaign is frozen; it cannot change."))
            fields = [name for name in form.changed_data if name in {f.name for f in Campaign._meta.concrete_fields}]
            if fields:
                obj.save(update_fields=fields)
        audit_event_record(
            actor=request.user,
            action="campaign.changed_in_admin",
            obj=obj,
            data={"fields": sorted(form.changed_data)},
        )


class _RosterRowAdmin(ModelAdmin):
    list_select_related = ("campaign",)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _reader(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _reader(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CampaignTarget)
class CampaignTargetAdmin(_RosterRowAdmin):
    list_display = ("campaign", "uscc", "name", "grade")
    list_filter = ("grade",)
    search_fields = ("campaign__code", "uscc", "name")


@admin.register(CampaignInspector)
class CampaignInspectorAdmin(_RosterRowAdmin):
    list_display = ("campaign", "username", "user")
    search_fields = ("campaign__code", "username")
    list_select_related = ("campaign", "user")


@admin.register(CampaignRecusal)
class CampaignRecusalAdmin(_RosterRowAdmin):
    list_display = ("campaign", "uscc", "username", "reason")
    search_fields = ("campaign__code", "uscc", "username")


@admin.register(InspectorConflict)
class InspectorConflictAdmin(ModelAdmin):
    """A conflict of interest recorded here makes the inspector recuse from the enterprise in every
    campaign frozen afterwards (and in commitment verifications)."""

    list_display = ("inspector", "enterprise", "reason", "recorded_by", "recorded_at")
    search_fields = ("inspector__username", "enterprise__uscc", "enterprise__name", "reason")
    list_select_related = ("inspector", "enterprise", "recorded_by")
    autocomplete_fields = ("enterprise",)
    fields = ("inspector", "enterprise", "reason", "recorded_by", "recorded_at")
    readonly_fields = ("recorded_by", "recorded_at")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "inspector":
            from core.models import User

            kwargs["queryset"] = User.objects.filter(kind=User.Kind.STAFF, is_active=True).order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _reader(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _reader(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _administrator(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _administrator(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _administrator(request)

    def save_model(self, request: HttpRequest, obj: InspectorConflict, form: Any, change: bool) -> None:
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)
        audit_event_record(
            actor=request.user,
            action="conflict.changed" if change else "conflict.recorded",
            obj=obj,
            data={"inspector": obj.inspector.username, "enterprise": obj.enterprise.uscc, "reason": obj.reason},
        )

    def delete_model(self, request: HttpRequest, obj: InspectorConflict) -> None:
        audit_event_record(
            actor=request.user,
            action="conflict.removed",
            obj=obj,
            data={"inspector": obj.inspector.username, "enterprise": obj.enterprise.uscc, "reason": obj.reason},
        )
        super().delete_model(request, obj)
