"""The kinds of notice, registered by the app that sends them (in its ``ready()``), as small named
objects: a code, the title and text (translatable, with ``%(name)s`` for the message's values) and
the channels it goes out on. The texts are rendered at delivery, in the recipient's language."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import translation

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

SITE = "site"
EMAIL = "email"
SMS = "sms"
CHANNELS = (SITE, EMAIL, SMS)

ENTERPRISE = "enterprise"
STAFF = "staff"


@dataclass(frozen=True)
class NoticeKind:
    """A kind of notice. ``channels`` go out unless the recipient turns them off; ``mandatory`` ones cannot be
    turned off (the in-site message is the record of every notice; a written legal document also
    goes by e-mail); a channel in neither is off until the recipient turns it on. ``audience``
    says whose preferences page lists the kind (enterprise users or bureau staff)."""

    code: str
    title: StrOrPromise
    body: StrOrPromise
    # what the preferences page calls the kind ("Application accepted")
    label: StrOrPromise = ""
    channels: tuple[str, ...] = (SITE, EMAIL)
    mandatory: tuple[str, ...] = (SITE,)
    audience: str = ENTERPRISE
    # values computed at delivery, in the recipient's language (a label from a stored code)
    labels: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None


_KINDS: dict[str, NoticeKind] = {}


def notice_kinds_register(*kinds: NoticeKind) -> None:
    for kind in kinds:
        _KINDS[kind.code] = kind


def notice_kind(code: str) -> NoticeKind:
    """The registered kind ``code``; a ``KeyError`` names a programming error, not user input."""
    return _KINDS[code]


def notice_kinds(*, audience: str | None = None) -> list[NoticeKind]:
    """The registered kinds (of ``audience``), in the order they were registered: an app lists its
    kinds in the order things happen."""
    return [kind for kind in _KINDS.values() if audience is None or kind.audience == audience]


def _format(text: StrOrPromise, context: Mapping[str, Any]) -> str:
    try:
        return str(text) % dict(context)
    except (KeyError, TypeError, ValueError):
        return str(text)


def notice_render(code: str, context: Mapping[str, Any], language: str) -> tuple[str, str]:
    """The title and text of a notice of kind ``code`` in ``language``."""
    kind = notice_kind(code)
    with translation.override(language):
        values = {**context, **kind.labels(context)} if kind.labels else context
        return _format(kind.title, values), _format(kind.body, values)
