"""Administrator screens for the organisation. Creation and revocation go through services, so
that permissions and the audit trail stay in step with the records."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from approvals.catalogue.models import VERSION_CONTENT_FIELDS
from approvals.models import Delegation, Department, Jurisdiction, RoleAssignment
from approvals.organisation import services
from core.admin_forms import ModelAdmin, ReadOnlyModelAdmin, SafeJSONField, TabularInline
from core.exceptions import DomainError
from core.forms import form_error
from core.models import User


@admin.register(Jurisdiction)
class JurisdictionAdmin(ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    search_fields = ("code", "name")

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return ("code", "level", "parent") if obj else ()

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class DepartmentAddForm(forms.ModelForm):
    class Meta:
        model = Department
        fields = ["code", "name", "kind", "jurisdiction", "parent"]

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()
        kind, parent, jurisdiction = cleaned.get("kind"), cleaned.get("parent"), cleaned.get("jurisdiction")
        expected = Department.PARENT_KIND.get(kind)
        if kind and ((parent is None) != (expected is None) or (parent is not None and parent.kind != expected)):
            self.add_error(
                "parent",
                _("A bureau has no parent unit, a department belongs to a bureau and a section to a department."),
            )
        if parent is not None and jurisdiction is not None and parent.jurisdiction_id != jurisdiction.pk:
            self.add_error("parent", _("A unit belongs to the jurisdiction of its parent."))
        return cleaned


@admin.register(Department)
class DepartmentAdmin(ModelAdmin):
    list_display = ("code", "name", "kind", "jurisdiction", "parent", "is_active")
    list_filter = ("kind", "jurisdiction", "is_active")
    search_fields = ("code", "name")
    list_select_related = ("jurisdiction", "parent")

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        if obj is None:
            kwargs["form"] = DepartmentAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return ("code", "kind", "jurisdiction", "parent", "created_at") if obj else ()

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if change:
            super().save_model(request, obj, form, change)
            return
        created = services.department_create(
            actor=request.user,
            code=obj.code,
            name=obj.name,
            kind=obj.kind,
            jurisdiction=obj.jurisdiction,
            parent=obj.parent,
        )
        obj.pk = created.pk

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class RoleAssignmentForm(forms.ModelForm):
    class Meta:
        model = RoleAssignment
        fields = ["user", "role", "department"]

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        # The view-only page of a grant builds this form with every field read-only (no fields).
        if "user" in self.fields:
            self.fields["user"].queryset = User.objects.filter(kind=User.Kind.STAFF, is_active=True)
        if "department" in self.fields:
            self.fields["department"].queryset = Department.objects.filter(is_active=True)

    def validate_unique(self) -> None:
        """Left to the service, which checks under a lock; the partial unique constraint backs it."""

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        data = self.cleaned_data
        try:
            self.created = services.staff_role_grant(
                actor=self.request_user,  # type: ignore[attr-defined]
                user=data["user"],
                role=data["role"],
                department=data.get("department"),
            )
        except DomainError as exc:
            form_error(self, exc)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ModelAdmin):
    list_display = ("user", "role", "department", "granted_at", "granted_by", "revoked_at")
    list_filter = ("role", "department", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("user__username", "user__display_name")
    list_select_related = ("user", "department", "granted_by")
    actions = ["revoke_selected"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return request.user.has_perm("approvals.administer")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["form"] = RoleAssignmentForm
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        return form

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        # The grant already ran (inside this request's transaction) when the form was validated.
        obj.pk = form.created.pk

    @admin.action(description=_("Revoke the selected role assignments"), permissions=["administer"])
    def revoke_selected(self, request: HttpRequest, queryset) -> None:  # type: ignore[no-untyped-def]
        done = 0
        for assignment in queryset.filter(revoked_at__isnull=True):
            try:
                services.staff_role_revoke(actor=request.user, assignment=assignment)
                done += 1
            except DomainError as exc:
                self.message_user(request, str(exc.message), messages.WARNING)
        self.message_user(request, _("%(count)d role assignment(s) revoked.") % {"count": done}, messages.SUCCESS)

    def has_administer_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("approvals.administer")


class DelegationForm(forms.ModelForm):
    class Meta:
        model = Delegation
        fields = ["delegator", "delegate", "department", "starts_at", "ends_at", "reason"]

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        staff = User.objects.filter(kind=User.Kind.STAFF, is_active=True)
        for name in ("delegator", "delegate"):
            if name in self.fields:  # absent on the view-only page
                self.fields[name].queryset = staff

    def validate_unique(self) -> None:
        """Left to the service."""

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        try:
            self.created = services.delegation_create(actor=self.request_user, **self.cleaned_data)  # type: ignore[attr-defined]
        except DomainError as exc:
            form_error(self, exc)


@admin.register(Delegation)
class DelegationAdmin(ModelAdmin):
    list_display = ("delegator", "delegate", "department", "starts_at", "ends_at", "revoked_at")
    list_filter = ("department",)
    list_select_related = ("delegator", "delegate", "department")
    actions = ["revoke_selected"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return request.user.has_perm("approvals.administer")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["form"] = DelegationForm
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        return form

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        obj.pk = form.created.pk

    @admin.action(description=_("End the selected delegations now"), permissions=["administer"])
    def revoke_selected(self, request: HttpRequest, queryset) -> None:  # type: ignore[no-untyped-def]
        done = 0
        for delegation in queryset.filter(revoked_at__isnull=True):
            services.delegation_revoke(actor=request.user, delegation=delegation)
            done += 1
        self.message_user(request, _("%(count)d delegation(s) ended.") % {"count": done}, messages.SUCCESS)

    def has_administer_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("approvals.administer")


# --- the approval list ----------------------------------------------------------------------------

from approvals.calendar import services as calendar_services  # noqa: E402
from approvals.catalogue import services as catalogue_services  # noqa: E402
from approvals.models import (  # noqa: E402
    ApprovalItem,
    ApprovalItemVersion,
    CalendarDay,
    CalendarVersion,
    CalendarYear,
    RequiredMaterial,
)


@admin.register(ApprovalItem)
class ApprovalItemAdmin(ModelAdmin):
    list_display = ("code", "created_at")
    search_fields = ("code", "versions__name")

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return ("code",) if obj else ()

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class RequiredMaterialInline(TabularInline):
    model = RequiredMaterial
    extra = 1
    fields = ("position", "name", "description", "mandatory", "may_be_missing", "replaced_by_commitment")

    def _editable(self, obj) -> bool:  # type: ignore[no-untyped-def]
        return obj is None or obj.status == ApprovalItemVersion.Status.DRAFT

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self._editable(obj) and super().has_delete_permission(request, obj)


class ApprovalItemVersionForm(forms.ModelForm):
    inspection_checklist = SafeJSONField(
        label=_("inspection checklist"), required=False, help_text=_("One line per item to check.")
    )

    class Meta:
        model = ApprovalItemVersion
        # the co-review departments (many-to-many) right after the desk
        fields = ["item", *VERSION_CONTENT_FIELDS]
        fields.insert(fields.index("desk_department") + 1, "co_review_departments")

    def clean_inspection_checklist(self) -> list[str]:
        # Read line by line by the inspection pages (``supervision_selectors.checklist_of``): a list of texts.
        lines = self.cleaned_data.get("inspection_checklist")
        if lines in (None, ""):
            return []
        if not isinstance(lines, list) or not all(isinstance(line, str) and line.strip() for line in lines):
            raise ValidationError(_("One line per item to check."), code="checklist_invalid")
        return [line.strip() for line in lines]


@admin.register(ApprovalItemVersion)
class ApprovalItemVersionAdmin(ModelAdmin):
    """Drafts are edited here; a published or closed version is read-only for ever. "Publish"
    closes the previously published version; "new draft from" copies a version for a change."""

    list_display = ("item", "number", "name", "status", "lead_department", "promised_limit_days", "published_at")
    list_filter = ("status", "reform_mode", "lead_department")
    search_fields = ("item__code", "name")
    list_select_related = ("item", "lead_department")
    form = ApprovalItemVersionForm
    inlines = [RequiredMaterialInline]
    filter_horizontal = ("co_review_departments",)
    actions = ["publish_selected", "new_draft_from_selected"]
    exclude = ("number", "status", "published_at", "published_by", "closed_at")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is not None and obj.status != ApprovalItemVersion.Status.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not change:
            latest = ApprovalItemVersion.objects.filter(item=obj.item).order_by("-number").first()
            obj.number = (latest.number + 1) if latest else 1
        super().save_model(request, obj, form, change)

    @admin.action(
        description=_("Publish the selected drafts (closes the versions they replace)"), permissions=["administer"]
    )
    def publish_selected(self, request: HttpRequest, queryset) -> None:  # type: ignore[no-untyped-def]
        for version in queryset:
            try:
                catalogue_services.item_version_publish(actor=request.user, version=version)
                self.message_user(request, _("Published: %(version)s") % {"version": version}, messages.SUCCESS)
            except DomainError as exc:
                self.message_user(request, f"{version}: {exc.message}", messages.ERROR)

    @admin.action(description=_("Start a new draft from the selected versions"), permissions=["administer"])
    def new_draft_from_selected(self, request: HttpRequest, queryset) -> None:  # type: ignore[no-untyped-def]
        for version in queryset:
            draft = catalogue_services.item_version_copy(actor=request.user, version=version)
            self.message_user(request, _("New draft: %(version)s") % {"version": draft}, messages.SUCCESS)

    def has_administer_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("approvals.administer")


# --- the working-day calendar ---------------------------------------------------------------------


class CalendarDayForm(forms.ModelForm):
    note = forms.CharField(label=_("Why the calendar changes"), max_length=300)

    class Meta:
        model = CalendarDay
        fields = ["date", "kind", "name"]

    def validate_unique(self) -> None:
        """The service replaces the current entry of the day; no uniqueness error here."""

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        data = self.cleaned_data
        try:
            calendar_services.calendar_day_set(
                actor=self.request_user,  # type: ignore[attr-defined]
                day=data["date"],
                kind=data["kind"],
                name=data["name"],
                note=data["note"],
            )
        except DomainError as exc:
            form_error(self, exc)


@admin.register(CalendarDay)
class CalendarDayAdmin(ModelAdmin):
    """Holidays and make-up working days. Every change is a new calendar version: old deadlines
    stay reproducible with the version they recorded."""

    list_display = ("date", "kind", "name", "added_in", "removed_in")
    list_filter = ("kind", ("removed_in", admin.EmptyFieldListFilter))
    date_hierarchy = "date"
    actions = ["clear_selected"]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).select_related("added_in", "removed_in")

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["form"] = CalendarDayForm
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        return form

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        obj.pk = CalendarDay.objects.get(date=obj.date, removed_in__isnull=True).pk

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return request.user.has_perm("approvals.administer")

    @admin.action(description=_("Remove the selected entries (new calendar version)"), permissions=["administer"])
    def clear_selected(self, request: HttpRequest, queryset) -> None:  # type: ignore[no-untyped-def]
        for day in queryset.filter(removed_in__isnull=True):
            calendar_services.calendar_day_clear(
                actor=request.user, day=day.date, note=str(_("Removed in the administration"))
            )
        self.message_user(request, _("Removed."), messages.SUCCESS)

    def has_administer_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("approvals.administer")


class CalendarYearForm(forms.ModelForm):
    # The service's range, checked here first so that a typo is a form error.
    year = forms.IntegerField(
        label=_("year"),
        min_value=calendar_services.CALENDAR_FIRST_YEAR,
        max_value=calendar_services.CALENDAR_LAST_YEAR,
    )

    class Meta:
        model = CalendarYear
        fields = ["year"]

    def validate_unique(self) -> None:
        """The service checks under its lock."""

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        year = self.cleaned_data["year"]
        package = calendar_services.calendar_years_from_package([year])
        try:
            calendar_services.calendar_year_publish(
                actor=self.request_user,  # type: ignore[attr-defined]
                year=year,
                days=package.get(year, []),
                source=CalendarYear.Source.PACKAGE if year in package else CalendarYear.Source.MANUAL,
            )
        except DomainError as exc:
            form_error(self, exc)


@admin.register(CalendarYear)
class CalendarYearAdmin(ModelAdmin):
    """Entering a year takes its days from the chinese-calendar package when it knows them;
    otherwise the year is entered empty and the days are added one by one. Provisional deadlines
    are recomputed at once."""

    list_display = ("year", "source", "added_in")

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["form"] = CalendarYearForm
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        return form

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        obj.pk = CalendarYear.objects.get(year=obj.year).pk

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return request.user.has_perm("approvals.administer")


@admin.register(CalendarVersion)
class CalendarVersionAdmin(ReadOnlyModelAdmin):
    list_display = ("number", "note", "created_at", "created_by")


from approvals.supervision import admin as campaign_admin  # noqa: E402, F401  (campaigns and conflicts of interest)
