"""Integer path parameters bounded to the range of the database's integer columns.

Django's ``int`` converter accepts any run of digits, so ``/…/99999999999999999999/`` reached the
views and failed inside the database driver (OverflowError on SQLite, a DataError on PostgreSQL):
a 500 instead of a 404. Django's own ``IntegerFieldExact`` lookup guards plain integer fields, but
not foreign-key, ``__in`` or raw lookups, so the bound belongs to the URL.

Django 5.1 deprecates overriding the built-in ``int`` converter with ``register_converter``;
``bound_int_converters`` instead swaps the converter in every route of the finished URL tree, once,
at the end of ``config/urls.py``. ``RoutePattern.match`` reads ``self.converters`` on every request
and a ``ValueError`` from ``to_python`` means "no match", so an out-of-range id resolves to nothing
and the request ends in a 404.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import URLPattern, URLResolver
from django.urls.converters import IntConverter

# The largest value of a signed 64-bit column (SQLite INTEGER, PostgreSQL bigint); every primary
# key is a BigAutoField (settings.DEFAULT_AUTO_FIELD).
MAX_DATABASE_INTEGER = 2**63 - 1


class BoundedIntConverter(IntConverter):
    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        # Checked on the digits before int(): a string of thousands of digits costs nothing here.
        digits = value.lstrip("0") or "0"
        if len(digits) > len(str(MAX_DATABASE_INTEGER)) or int(digits) > MAX_DATABASE_INTEGER:
            raise ValueError(f"{value!r} is out of the database's integer range")
        return int(digits)


BOUNDED_INT = BoundedIntConverter()


def bound_int_converters(patterns: Iterable[URLPattern | URLResolver]) -> None:
    """Replace Django's ``int`` converter by ``BoundedIntConverter`` in every route under
    ``patterns``, recursing into included resolvers (the admin's, viewflow's viewsets).

    Call it once, on the finished ``urlpatterns``. A resolver's ``url_patterns`` is a cached
    property and viewflow builds each viewset's list once (``Viewset._urls_cache``), so the route
    objects reached here are the ones that resolve requests (``RoutePattern.match`` reads
    ``self.converters`` on each request). The ``converters`` dicts are changed in place; Django's
    cached ``_route_to_regex`` may share one dict between routes of the same string, which is
    harmless since every route is bounded. The regex is unchanged, so compiled patterns stay valid.
    A route added to the tree afterwards is not covered: ``tests/test_out_of_range_ids.py`` fails
    if any route still carries Django's converter.
    """
    for entry in patterns:
        converters = getattr(entry.pattern, "converters", None) or {}
        for name, converter in list(converters.items()):
            # Exactly Django's class: a project converter that subclasses it keeps its own rules.
            if type(converter) is IntConverter:
                converters[name] = BOUNDED_INT
        if isinstance(entry, URLResolver):
            bound_int_converters(entry.url_patterns)
