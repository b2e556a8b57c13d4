"""The kinds of notice, registered by the app that sends them (in its ``ready()``), as small named
objects: a code, the title and text (translatable, with ``%(name)s`` for the message's values) and
the channels it goes out on. The texts are rendered at delivery, in the recipient's language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import translation

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

SITE = "site"
EMAIL = "email"


@dataclass(frozen=True)
class NoticeKind:
    code: str
    title: StrOrPromise
    body: StrOrPromise
    channels: tuple[str, ...] = (SITE, EMAIL)


_KINDS: dict[str, NoticeKind] = {}


def notice_kinds_register(*kinds: NoticeKind) -> None:
    for kind in kinds:
        _KINDS[kind.code] = kind


def notice_kind(code: str) -> NoticeKind:
    """The registered kind ``code``; a ``KeyError`` names a programming error, not user input."""
    return _KINDS[code]


def notice_kinds() -> list[NoticeKind]:
    return sorted(_KINDS.values(), key=lambda kind: kind.code)


def _format(text: StrOrPromise, context: Mapping[str, Any]) -> str:
    try:
        return str(text) % dict(context)
    except (KeyError, TypeError, ValueError):
        return str(text)


def notice_render(code: str, context: Mapping[str, Any], language: str) -> tuple[str, str]:
    """The title and text of a notice of kind ``code`` in ``language``."""
    kind = notice_kind(code)
    with translation.override(language):
        return _format(kind.title, context), _format(kind.body, context)
