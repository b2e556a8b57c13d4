from django import template

register = template.Library()


@register.filter
def absolute(value: int | None) -> int | None:
    """``-3`` → ``3``: an integer, so ``blocktranslate count`` can choose the plural."""
    if value is None:
        return None
    return abs(int(value))
