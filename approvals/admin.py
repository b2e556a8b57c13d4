"""Administrator screens for the organisation. Creation and revocation go through services, so
that permissions and the audit trail stay in step with the records."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from approvals import services
from approvals.models import Delegation, Department, Jurisdiction, RoleAssignment
from core.exceptions import DomainError
from core.models import User


@admin.register(Jurisdiction)
class JurisdictionAdmin(admin.ModelAdmin):
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
class DepartmentAdmin(admin.ModelAdmin):
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
        self.fields["user"].queryset = User.objects.filter(kind=User.Kind.STAFF, is_active=True)
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
            self.add_error(None, ValidationError(exc.message, code=exc.code))


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
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
        self.fields["delegator"].queryset = staff
        self.fields["delegate"].queryset = staff

    def validate_unique(self) -> None:
        """Left to the service."""

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        try:
            self.created = services.delegation_create(actor=self.request_user, **self.cleaned_data)  # type: ignore[attr-defined]
        except DomainError as exc:
            self.add_error(None, ValidationError(exc.message, code=exc.code))


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
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
