"""Domain errors with stable codes, shared by every app."""

from __future__ import annotations

from django.utils.functional import Promise


class DomainError(Exception):
    """A refused operation. ``code`` is stable (tests and API clients rely on it); ``message`` is
    translatable and shown to the user."""

    code: str = "domain_error"

    def __init__(self, code: str, message: str | Promise, **params: object) -> None:
        self.code = code
        self.message = message
        self.params = params
        super().__init__(f"{code}: {message}")
