"""Domain errors with stable codes, shared by every app."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


class DomainError(Exception):
    """A refused operation. ``code`` is stable (tests and API clients rely on it); ``message`` is
    translatable and shown to the user."""

    code: str = "domain_error"

    def __init__(self, code: str, message: str | StrPromise, **params: object) -> None:
        self.code = code
        self.message = message
        self.params = params
        super().__init__(f"{code}: {message}")
