from django import template
from django.utils.functional import Promise

from core.audit import action_label, object_label

register = template.Library()


@register.filter
def audit_action(action: str) -> str | Promise:
    return action_label(action)


@register.simple_tag
def audit_object(event: object) -> str:
    return object_label(event.object_type, event.object_id, event.data)  # type: ignore[attr-defined]
