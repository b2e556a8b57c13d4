"""Cursor pagination for every list of the API: stable under inserts, constant cost per page (no
``OFFSET``, no ``COUNT``). The body is ``{"next": url|null, "previous": url|null, "results": […]}``.
"""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"
