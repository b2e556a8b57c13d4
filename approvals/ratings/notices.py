"""What the 差评 loop tells people, through the outbox in the transaction of the service that
decided: the department that a bad rating opened a loop (with the callback's due day), and the
enterprise the department's reply, with the word that it may rate the case once more. The texts
are rendered at delivery in each recipient's language.

Also the labels of the audit actions of ratings and loops."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from approvals import permissions
from core.outbox.kinds import EMAIL, SITE, STAFF, NoticeKind, notice_kinds_register
from core.outbox.services import notify
from credit.enterprises.selectors import enterprise_members

if TYPE_CHECKING:
    from approvals.ratings.models import RatingLoop


def _labels(context: Mapping[str, Any]) -> dict[str, str]:
    """The level in the reader's language (the context keeps the number, not a label)."""
    from approvals.ratings.models import Level

    code = context.get("level_code")
    return {"level": str(Level(code).label) if code in Level.values else str(code)}


KINDS = (
    NoticeKind(
        "rating.loop_opened",
        _("Bad rating of %(reference)s: call the applicant back by %(due)s"),
        _(
            "%(enterprise)s rated application %(reference)s (%(item)s) %(level)s. %(department)s calls the "
            "applicant back by %(due)s and verifies and rectifies by %(rectify_due)s."
        ),
        label=_("A bad rating opened a follow-up in my department"),
        channels=(SITE,),
        audience=STAFF,
        labels=_labels,
    ),
    NoticeKind(
        "rating.loop_replied",
        _("Reply to your rating of %(reference)s"),
        _(
            "%(department)s replies to your rating of application %(reference)s (%(item)s): %(reply)s "
            "You may rate the case once more on its page."
        ),
        label=_("Reply to my rating, with the invitation to rate again"),
        channels=(SITE, EMAIL),
        labels=_labels,
    ),
)
notice_kinds_register(*KINDS)

ACTION_LABELS = {
    "rating.given": _("Case rated"),
    "rating.given_again": _("Case rated again after the reply"),
    "rating_loop.opened": _("Bad-rating follow-up opened"),
    "rating_loop.claimed": _("Bad-rating follow-up taken up"),
    "rating_loop.released": _("Bad-rating follow-up put back"),
    "rating_loop.called_back": _("Applicant called back"),
    "rating_loop.verified": _("Bad rating verified"),
    "rating_loop.rectified": _("Rectification recorded"),
    "rating_loop.replied": _("Reply sent to the applicant"),
}


def _context(loop: RatingLoop) -> dict[str, Any]:
    application = loop.application
    return {
        "reference": application.reference or f"#{application.pk}",
        "item": application.item_version.name,
        "enterprise": application.enterprise.name,
        "department": loop.department.name,
        "level_code": loop.rating.level,
        "due": loop.callback_due_on.isoformat(),
        "rectify_due": loop.rectify_due_on.isoformat(),
    }


def loop_opened_tell(loop: RatingLoop) -> int:
    """Tell everyone who may work the department's loops that this one waits for its callback."""
    recipients = list(permissions.rating_loop_staff(department=loop.department))
    context = _context(loop)
    for recipient in recipients:
        notify(
            recipient=recipient,
            kind="rating.loop_opened",
            dedupe_key=f"rating_loop:{loop.pk}:opened:{recipient.pk}",
            context=context,
            obj=loop.application,
        )
    return len(recipients)


def loop_replied_tell(loop: RatingLoop) -> int:
    """Tell the people who act for the enterprise today the reply, and that they may re-rate."""
    application = loop.application
    recipients = list(enterprise_members(enterprise=application.enterprise))
    context = {**_context(loop), "reply": loop.reply}
    for recipient in recipients:
        notify(
            recipient=recipient,
            kind="rating.loop_replied",
            dedupe_key=f"rating_loop:{loop.pk}:replied:{recipient.pk}",
            context=context,
            obj=application,
        )
    return len(recipients)
