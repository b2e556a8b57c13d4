from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from core.admin_forms import ReadOnlyModelAdmin, SafeInputMixin
from core.models import AuditEvent, User


@admin.register(User)
class UserAdmin(SafeInputMixin, DjangoUserAdmin):
    list_display = ("username", "display_name", "kind", "email", "is_active", "last_login")
    list_filter = ("kind", "is_active", "is_staff")
    search_fields = ("username", "display_name", "email", "phone")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("display_name", "email", "phone", "kind")}),
        (_("Status"), {"fields": ("is_active", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "kind", "display_name", "password1", "password2")}),
    )
    readonly_fields = ("last_login", "date_joined")


# Django's own group screen, with the bad-input guards of ours: its permission list is a multiple
# choice, looked up with ``pk__in`` (core/admin_forms.py).
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(SafeInputMixin, DjangoGroupAdmin):
    pass


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "action", "object_type", "object_id", "actor")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "action", "actor__username")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)
