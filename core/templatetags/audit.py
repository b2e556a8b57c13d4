from django import template
from django.utils.functional import Promise

from core.audit import action_label

register = template.Library()


@register.filter
def audit_action(action: str) -> str | Promise:
    return action_label(action)
