"""Single sign-on: who a person verified by the provincial identity service (统一身份认证) is here.

The provider vouches for claims; this module decides which account they open, and opens none for a
stranger:

- a claim with an employee id (``settings.SSO_CLAIM_EMPLOYEE_ID``) names a staff member: the active
  staff account with that ``User.employee_id``. Staff accounts, their roles and departments are
  made by administrators only; an unknown employee id is refused.
- otherwise a USCC (``SSO_CLAIM_USCC``) and a name (``SSO_CLAIM_NAME``) name an enterprise's legal
  representative: the enterprise registered with that code whose *current* legal representative
  has that name. The person's account is the one their identity (issuer + subject) is linked to;
  at the first sign-on, the one local account already confirmed as that enterprise's legal
  representative under that name, or else a new enterprise account without a password. Either
  way the account gets a confirmed legal-representative membership of the enterprise: the
  provider's verification is the check an administrator would otherwise make. No matching
  enterprise, or a different legal representative on record, is refused.

The claim names are settings because each province's identity service names them its own way.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from core.models import AuditEvent, ExternalIdentity, User
from core.services import audit_event_record
from credit.enterprises.uscc import InvalidUSCCError, uscc_validate
from credit.models import Enterprise, Membership

logger = logging.getLogger(__name__)


class SSORefusedError(DomainError):
    pass


REFUSALS = {
    "sso_subject_missing": _("The identity service did not say who you are."),
    "sso_claims_incomplete": _(
        "The identity service named neither an employee id nor an enterprise and its legal representative."
    ),
    "sso_staff_unknown": _("No staff account of the bureau has this employee id. Ask an administrator to enter it."),
    "sso_account_inactive": _("This account is disabled."),
    "sso_enterprise_unknown": _(
        "No enterprise registered here has this unified social credit code and this legal representative."
    ),
    "sso_identity_ambiguous": _(
        "More than one account here is this enterprise's legal representative under this name; an "
        "administrator must link your identity to one of them."
    ),
    "sso_membership_ended": _("Your membership of this enterprise was ended by an administrator."),
    "sso_membership_conflict": _(
        "Your account already acts for this enterprise as an authorised agent; an administrator must end that first."
    ),
}


def _refuse(code: str) -> SSORefusedError:
    return SSORefusedError(code, REFUSALS[code])


@dataclass(frozen=True)
class SSOLogin:
    user: User
    route: str  # "staff" or "enterprise"
    created: bool  # a new account was made for the person


def _claim(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if value is None or isinstance(value, (dict, list, bool)):
        return ""
    return " ".join(str(value).replace("\u3000", " ").split())


def _same_person_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def sso_login_resolve(*, issuer: str, subject: str, claims: Mapping[str, Any]) -> SSOLogin:
    """The account the verified ``claims`` of ``subject`` at ``issuer`` sign in to.

    Preconditions: the caller verified the ID token (signature by the provider's key, issuer,
    audience, nonce) and that the claims belong to ``subject``. Effects, in one transaction: for an
    enterprise's legal representative, possibly a new account, an identity link and a confirmed
    membership; always an ``account.sso_login`` audit event on the account. A refusal writes
    nothing but an ``account.sso_refused`` audit event.

    Errors: ``sso_subject_missing``, ``sso_claims_incomplete``, ``sso_staff_unknown``,
    ``sso_account_inactive``, ``sso_enterprise_unknown``, ``sso_identity_ambiguous``,
    ``sso_membership_ended``, ``sso_membership_conflict``.
    """
    employee_id = _claim(claims, settings.SSO_CLAIM_EMPLOYEE_ID)
    uscc = _claim(claims, settings.SSO_CLAIM_USCC)
    name = _claim(claims, settings.SSO_CLAIM_NAME)
    try:
        if not subject:
            raise _refuse("sso_subject_missing")
        if employee_id:
            return _staff_login(issuer=issuer, subject=subject, employee_id=employee_id)
        if uscc and name:
            return _enterprise_login(issuer=issuer, subject=subject, uscc=uscc, name=name, claims=claims)
        raise _refuse("sso_claims_incomplete")
    except SSORefusedError as exc:
        # Outside the refused transaction, which rolled back: the refusal itself stays on record.
        # The name is personal data and stays out of the trail; the code and the subject suffice.
        with transaction.atomic():
            AuditEvent.objects.create(
                actor=None,
                action="account.sso_refused",
                object_type="core.externalidentity",
                object_id=subject[:64] or "?",
                data={"code": exc.code, "issuer": issuer, "employee_id": employee_id, "uscc": uscc},
            )
        logger.warning("single sign-on refused: %s (issuer %s, subject %s)", exc.code, issuer, subject)
        raise


def _staff_login(*, issuer: str, subject: str, employee_id: str) -> SSOLogin:
    with transaction.atomic():
        user = User.objects.filter(kind=User.Kind.STAFF, employee_id=employee_id).first()
        if user is None:
            raise _refuse("sso_staff_unknown")
        if not user.is_active:
            raise _refuse("sso_account_inactive")
        audit_event_record(
            actor=user,
            action="account.sso_login",
            obj=user,
            data={"route": "staff", "issuer": issuer, "subject": subject, "employee_id": employee_id},
        )
    return SSOLogin(user=user, route="staff", created=False)


def _enterprise_login(*, issuer: str, subject: str, uscc: str, name: str, claims: Mapping[str, Any]) -> SSOLogin:
    try:
        code = uscc_validate(uscc)
    except InvalidUSCCError:
        raise _refuse("sso_enterprise_unknown") from None
    try:
        with transaction.atomic():
            return _enterprise_login_locked(issuer=issuer, subject=subject, code=code, name=name, claims=claims)
    except IntegrityError:
        # A concurrent first sign-on of the same person linked the identity between our look-up and
        # our insert (the enterprise lock serialises one enterprise, not one person across two):
        # the second attempt finds the link.
        with transaction.atomic():
            return _enterprise_login_locked(issuer=issuer, subject=subject, code=code, name=name, claims=claims)


def _enterprise_login_locked(*, issuer: str, subject: str, code: str, name: str, claims: Mapping[str, Any]) -> SSOLogin:
    # Lock order: the enterprise, then the memberships of it (as credit.enterprises.services).
    enterprise = Enterprise.objects.select_for_update().filter(uscc=code).first()
    if enterprise is None or not _same_person_name(enterprise.legal_representative, name):
        raise _refuse("sso_enterprise_unknown")
    now = timezone.now()
    created = linked = False
    identity = ExternalIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
    if identity is not None:
        user = identity.user
    else:
        local = _local_legal_representative(enterprise=enterprise, name=name, issuer=issuer)
        if local is None:
            user = _enterprise_user_create(issuer=issuer, subject=subject, name=name, claims=claims)
            created = True
        else:
            user = local
        with transaction.atomic():
            identity = ExternalIdentity.objects.create(issuer=issuer, subject=subject, user=user)
        linked = True
    if not user.is_active:
        raise _refuse("sso_account_inactive")
    if not user.is_enterprise_user:
        # A staff account linked to an enterprise identity by hand: it never acts for an enterprise.
        raise _refuse("sso_enterprise_unknown")
    membership, membership_created = _legal_representative_membership(user=user, enterprise=enterprise, now=now)
    ExternalIdentity.objects.filter(pk=identity.pk).update(last_login_at=now)
    audit_event_record(
        actor=user,
        action="account.sso_login",
        obj=user,
        data={
            "route": "enterprise",
            "issuer": issuer,
            "subject": subject,
            "enterprise": enterprise.uscc,
            "membership": membership.pk,
            "account_created": created,
            "identity_linked": linked,
            "membership_confirmed": membership_created,
        },
    )
    return SSOLogin(user=user, route="enterprise", created=created)


def _local_legal_representative(*, enterprise: Enterprise, name: str, issuer: str) -> User | None:
    """The one account already confirmed (by an administrator) as ``enterprise``'s legal
    representative, under the person's name, and not yet linked to another identity of ``issuer``."""
    candidates = [
        user
        for user in User.objects.filter(
            kind=User.Kind.ENTERPRISE,
            memberships__enterprise=enterprise,
            memberships__role=Membership.Role.LEGAL_REPRESENTATIVE,
            memberships__status=Membership.Status.CONFIRMED,
        )
        .exclude(external_identities__issuer=issuer)
        .distinct()
        .order_by("pk")
        if _same_person_name(user.display_name, name)
    ]
    if len(candidates) > 1:
        raise _refuse("sso_identity_ambiguous")
    return candidates[0] if candidates else None


def _enterprise_user_create(*, issuer: str, subject: str, name: str, claims: Mapping[str, Any]) -> User:
    digest = hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:20]
    user = User(
        username=f"sso-{digest}",
        kind=User.Kind.ENTERPRISE,
        display_name=name[:100],
        email=_claim(claims, "email")[:254] if claims.get("email_verified", True) else "",
        phone=_claim(claims, "phone_number")[:20],
    )
    # Signs in through the identity service only, until the person sets a password.
    user.set_unusable_password()
    user.save()
    audit_event_record(actor=user, action="user.registered", obj=user, data={"username": user.username, "via": "sso"})
    return user


def _legal_representative_membership(*, user: User, enterprise: Enterprise, now: Any) -> tuple[Membership, bool]:
    memberships = list(Membership.objects.select_for_update().filter(user=user, enterprise=enterprise).order_by("-pk"))
    open_ones = [m for m in memberships if m.status in Membership.OPEN_STATUSES]
    if any(m.role == Membership.Role.AGENT for m in open_ones):
        raise _refuse("sso_membership_conflict")
    for membership in open_ones:
        if membership.status == Membership.Status.CONFIRMED:
            return membership, False
        # Pending: the provider's verification is the confirmation an administrator would give.
        changed = Membership.objects.filter(pk=membership.pk, status=Membership.Status.PENDING).update(
            status=Membership.Status.CONFIRMED, decided_at=now, decided_by=None, decision_note=_sso_note()
        )
        if changed != 1:  # decided meanwhile; only a confirmation was possible under our lock
            raise _refuse("sso_membership_ended")
        membership.refresh_from_db()
        audit_event_record(
            actor=user,
            action="membership.sso_verified",
            obj=membership,
            data={"enterprise": enterprise.uscc, "from": Membership.Status.PENDING, "to": Membership.Status.CONFIRMED},
        )
        return membership, True
    if any(m.role == Membership.Role.LEGAL_REPRESENTATIVE for m in memberships):
        # Revoked or rejected by an administrator: the provider does not overrule that decision.
        raise _refuse("sso_membership_ended")
    membership = Membership.objects.create(
        user=user,
        enterprise=enterprise,
        role=Membership.Role.LEGAL_REPRESENTATIVE,
        status=Membership.Status.CONFIRMED,
        decided_at=now,
        decision_note=_sso_note(),
    )
    audit_event_record(
        actor=user,
        action="membership.sso_verified",
        obj=membership,
        data={"enterprise": enterprise.uscc, "from": None, "to": Membership.Status.CONFIRMED},
    )
    return membership, True


def _sso_note() -> str:
    return str(_("Verified by the provincial identity service"))[:300]
