from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin_forms import ReadOnlyModelAdmin, SafeInputMixin, TabularInline, admin_actor
from core.models import AuditEvent, Delivery, ExternalIdentity, OutboxMessage, ScheduledJob, User
from core.outbox.selectors import outbox_status
from core.outbox.services import deliveries_replay


@admin.register(User)
class UserAdmin(SafeInputMixin, DjangoUserAdmin):
    list_display = ("username", "display_name", "kind", "email", "is_active", "last_login")
    list_filter = ("kind", "is_active", "is_staff")
    search_fields = ("username", "display_name", "email", "phone", "employee_id")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("display_name", "email", "phone", "kind", "employee_id")}),
        (_("Status"), {"fields": ("is_active", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "kind", "display_name", "password1", "password2")}),
    )
    readonly_fields = ("last_login", "date_joined")


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(ReadOnlyModelAdmin):
    """Identities of the provincial identity service, linked at single sign-on (approvals.organisation.sso)."""

    list_display = ("subject", "issuer", "user", "created_at", "last_login_at")
    search_fields = ("subject", "user__username", "user__display_name")
    list_select_related = ("user",)


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


# --- the outbox ------------------------------------------------------------------------------------


class DeliveryInline(TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ("channel", "status", "attempts", "next_attempt_at", "sent_at", "last_error", "external_id")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "kind", "recipient", "language", "object_type", "object_id")
    list_filter = ("kind", "language")
    search_fields = ("dedupe_key", "recipient__username", "object_id")
    list_select_related = ("recipient",)
    inlines = [DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyModelAdmin):
    """Every delivery by channel and state, the counts above the list (``outbox_status``), and
    the replay of dead ones."""

    list_display = ("id", "message", "channel", "status", "attempts", "next_attempt_at", "sent_at", "last_error")
    list_filter = ("status", "channel", "message__kind")
    list_select_related = ("message",)
    actions = ["replay_selected"]
    change_list_template = "admin/core/delivery/change_list.html"

    def changelist_view(self, request, extra_context=None):  # type: ignore[no-untyped-def]
        extra_context = {**(extra_context or {}), "status_rows": outbox_status(), "statuses": Delivery.Status}
        return super().changelist_view(request, extra_context=extra_context)

    @admin.action(description=_("Send the selected dead deliveries again"), permissions=["replay"])
    def replay_selected(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = deliveries_replay(actor=admin_actor(request), deliveries=queryset)
        self.message_user(request, _("%(count)s deliveries queued again.") % {"count": count}, messages.SUCCESS)

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


@admin.register(ScheduledJob)
class ScheduledJobAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "last_started_at", "last_finished_at", "last_duration_ms", "runs", "last_result")
