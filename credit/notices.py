"""What an enterprise is told about its credit and its policies: an entry recorded against it, its
grade changing, its objection or repair request decided, its policy application decided, an
instalment paid. Written through the outbox (``core.outbox``) in the transaction of the service
that decided; the texts are rendered at delivery in each recipient's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from core.outbox.kinds import NoticeKind, notice_kinds_register
from core.outbox.services import notify
from credit.enterprises.selectors import enterprise_members

if TYPE_CHECKING:
    from credit.enterprises.models import Enterprise
    from credit.ledger.models import CreditRequest, LedgerEntry
    from credit.policies.models import Disbursement, PolicyApplication


def _bilingual(context: Mapping[str, Any]) -> dict[str, str]:
    """Names kept in both languages (``kind_zh`` / ``kind_en``, ``policy_zh`` / ``policy_en``), in
    the recipient's: English when it is theirs and the English name is recorded, else Chinese."""
    english = (translation.get_language() or "").startswith("en")
    names = {}
    for key, chinese in context.items():
        if key.endswith("_zh"):
            name = key[:-3]
            names[name] = str(context.get(f"{name}_en") if english and context.get(f"{name}_en") else chinese)
    return names


def _request_labels(context: Mapping[str, Any]) -> dict[str, str]:
    from credit.ledger.models import CreditRequest

    code = context.get("request_kind")
    label = CreditRequest.Kind(code).label if code in CreditRequest.Kind.values else code
    return {**_bilingual(context), "request": str(label)}


KINDS = (
    NoticeKind(
        "credit.entry_recorded",
        _("A credit record was entered for %(enterprise)s"),
        _(
            "%(authority)s recorded “%(kind)s” (%(points)s points) against %(enterprise)s, dated %(occurred)s. "
            "Reason: %(reason)s If you think it is wrong, you may object on the enterprise's credit page."
        ),
        labels=_bilingual,
        label=_("Credit record entered"),
    ),
    NoticeKind(
        "credit.grade_changed",
        _("The credit grade of %(enterprise)s is now %(after)s"),
        _(
            "The credit grade of %(enterprise)s changed from %(before)s to %(after)s (score %(score)s). "
            "The credit page shows every record that counts."
        ),
        label=_("Credit grade changed"),
    ),
    NoticeKind(
        "credit.request_granted",
        _("%(request)s granted"),
        _("Your %(request)s concerning “%(kind)s” of %(enterprise)s was granted. %(reason)s"),
        labels=_request_labels,
        label=_("Objection or repair granted"),
    ),
    NoticeKind(
        "credit.request_refused",
        _("%(request)s refused"),
        _("Your %(request)s concerning “%(kind)s” of %(enterprise)s was refused. Reasons: %(reason)s"),
        labels=_request_labels,
        label=_("Objection or repair refused"),
    ),
    NoticeKind(
        "policy.approved",
        _("%(policy)s approved"),
        _(
            "The application of %(enterprise)s for %(policy)s was approved: %(amount)s yuan for %(months)s months. "
            "%(reason)s"
        ),
        labels=_bilingual,
        label=_("Policy application approved"),
    ),
    NoticeKind(
        "policy.refused",
        _("%(policy)s refused"),
        _("The application of %(enterprise)s for %(policy)s was refused. Reasons: %(reason)s"),
        labels=_bilingual,
        label=_("Policy application refused"),
    ),
    NoticeKind(
        "policy.disbursed",
        _("Instalment %(number)s of %(policy)s paid"),
        _(
            "Instalment %(number)s of %(amount)s yuan of %(policy)s for %(enterprise)s was paid on %(paid_on)s "
            "(reference %(reference)s); %(remaining)s yuan of the grant remain."
        ),
        labels=_bilingual,
        label=_("Subsidy instalment paid"),
    ),
)
notice_kinds_register(*KINDS)


def _tell_members(enterprise: Enterprise, *, kind: str, key: str, context: dict[str, Any], obj: models.Model) -> int:
    """Tell every person who acts for ``enterprise`` today."""
    members = list(enterprise_members(enterprise=enterprise))
    for member in members:
        notify(recipient=member, kind=kind, dedupe_key=f"{key}:{member.pk}", context=context, obj=obj)
    return len(members)


def _entry_context(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "enterprise": entry.enterprise.name,
        "authority": entry.deciding_authority,
        "kind_zh": entry.kind.name,
        "kind_en": entry.kind.name_en,
        "points": entry.points,
        "occurred": timezone.localtime(entry.occurred_at).date().isoformat(),
        "reason": entry.reason,
    }


def entry_recorded_tell(entry: LedgerEntry, *, grade_before: str, grade_after: str, score: int) -> None:
    """Tell the enterprise of a new entry (not of a correction: its request's decision says that)
    and, when it moved the grade, of the new grade."""
    enterprise = entry.enterprise
    if entry.reverses_id is None:
        _tell_members(
            enterprise,
            kind="credit.entry_recorded",
            key=f"entry:{entry.seq}",
            context=_entry_context(entry),
            obj=enterprise,
        )
    if grade_before != grade_after:
        _tell_members(
            enterprise,
            kind="credit.grade_changed",
            key=f"grade:{entry.seq}",
            context={"enterprise": enterprise.name, "before": grade_before, "after": grade_after, "score": score},
            obj=enterprise,
        )


def credit_request_decided_tell(credit_request: CreditRequest) -> None:
    from credit.ledger.models import RequestStatus

    granted = credit_request.status == RequestStatus.GRANTED
    entry = credit_request.entry
    context = {
        **_entry_context(entry),
        "request_kind": credit_request.kind,
        "reason": credit_request.decision_reason,
    }
    _tell_members(
        credit_request.enterprise,
        kind="credit.request_granted" if granted else "credit.request_refused",
        key=f"credit_request:{credit_request.pk}:decided",
        context=context,
        obj=credit_request.enterprise,
    )


def policy_decided_tell(application: PolicyApplication, *, amount: Any = None, months: int | None = None) -> None:
    from credit.policies.models import ApplicationStatus

    approved = application.status == ApplicationStatus.APPROVED
    context = {
        "enterprise": application.enterprise.name,
        "policy_zh": application.policy.name,
        "policy_en": application.policy.name_en,
        "amount": str(amount) if amount is not None else "",
        "months": months or "",
        "reason": application.decision_reason,
    }
    _tell_members(
        application.enterprise,
        kind="policy.approved" if approved else "policy.refused",
        key=f"policy_application:{application.pk}:decided",
        context=context,
        obj=application,
    )


def disbursement_tell(disbursement: Disbursement, *, remaining: Any) -> None:
    grant = disbursement.grant
    context = {
        "enterprise": grant.enterprise.name,
        "policy_zh": grant.policy_version.policy.name,
        "policy_en": grant.policy_version.policy.name_en,
        "number": disbursement.number,
        "amount": str(disbursement.amount),
        "paid_on": disbursement.paid_on.isoformat(),
        "reference": disbursement.reference,
        "remaining": str(remaining),
    }
    _tell_members(
        grant.enterprise,
        kind="policy.disbursed",
        key=f"disbursement:{disbursement.pk}",
        context=context,
        obj=grant.application,
    )
