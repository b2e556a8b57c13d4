"""Which channels a notice goes out on for one recipient: the kind's defaults, the recipient's own
choices where the kind lets them choose, and only channels the recipient can be reached on (an
e-mail address, a mobile number)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from core.models import User
from core.outbox.kinds import CHANNELS, EMAIL, SMS, NoticeKind, notice_kinds
from core.outbox.models import NoticePreference
from core.services import audit_event_record


def reachable(recipient: User, channel: str) -> bool:
    if channel == EMAIL:
        return bool(recipient.email)
    if channel == SMS:
        return bool(recipient.phone)
    return True


def choosable(kind: NoticeKind, channel: str) -> bool:
    """Whether the recipient may turn ``channel`` of ``kind`` on or off (not a mandatory one)."""
    return channel in CHANNELS and channel not in kind.mandatory


def channels_for(recipient: User, kind: NoticeKind) -> list[str]:
    """The channels ``kind`` goes out on to ``recipient``, in the order of ``CHANNELS``."""
    choices = dict(NoticePreference.objects.filter(user=recipient, kind=kind.code).values_list("channel", "enabled"))
    chosen = []
    for channel in CHANNELS:
        on = channel in kind.mandatory or choices.get(channel, channel in kind.channels)
        if on and reachable(recipient, channel):
            chosen.append(channel)
    return chosen


def preferences_of(user: User, kinds: Iterable[NoticeKind]) -> dict[tuple[str, str], bool]:
    """Whether each (kind, channel) is on for ``user``, defaults included."""
    kinds = list(kinds)
    choices = {
        (kind, channel): enabled
        for kind, channel, enabled in NoticePreference.objects.filter(
            user=user, kind__in=[kind.code for kind in kinds]
        ).values_list("kind", "channel", "enabled")
    }
    return {
        (kind.code, channel): channel in kind.mandatory or choices.get((kind.code, channel), channel in kind.channels)
        for kind in kinds
        for channel in CHANNELS
    }


def audience_of(user: User) -> str:
    return "staff" if user.is_bureau_staff else "enterprise"


def notice_preferences_set(*, user: User, enabled: Mapping[tuple[str, str], bool]) -> int:
    """Record ``user``'s choices (``(kind, channel) → on``) for the kinds of their audience; a
    mandatory channel or a kind of another audience is refused. Returns how many choices changed."""
    kinds = {kind.code: kind for kind in notice_kinds(audience=audience_of(user))}
    for kind_code, channel in enabled:
        kind = kinds.get(kind_code)
        if kind is None or not choosable(kind, channel):
            raise DomainError("not_choosable", _("This channel of this notice cannot be chosen."))
    current = preferences_of(user, kinds.values())
    changed = {key: on for key, on in enabled.items() if current.get(key) != on}
    with transaction.atomic():
        for (kind_code, channel), on in changed.items():
            NoticePreference.objects.update_or_create(
                user=user, kind=kind_code, channel=channel, defaults={"enabled": on}
            )
        if changed:
            audit_event_record(
                actor=user,
                action="outbox.preferences_changed",
                obj=user,
                data={f"{kind}/{channel}": on for (kind, channel), on in sorted(changed.items())},
            )
    return len(changed)
