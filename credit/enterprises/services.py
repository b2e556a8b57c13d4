"""Writes of enterprises and memberships. Each function is one transaction with its audit event."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.actors import real_actor
from core.exceptions import DomainError
from core.models import User
from core.services import audit_event_record
from core.uploads import CheckedUpload, UploadRejectedError, upload_check, upload_store_name
from credit.enterprises.models import Enterprise, EnterpriseProfileChange, Membership
from credit.enterprises.uscc import uscc_validate

# PDF, PNG and JPEG, recognised by their first bytes rather than by the name the browser sent.


class MembershipError(DomainError):
    pass


class EnterpriseError(DomainError):
    pass


def _clean_text(value: str, *, code: str, label: str, max_length: int) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise EnterpriseError(code, _("%(field)s is required.") % {"field": label})
    if len(text) > max_length:
        raise EnterpriseError(
            code, _("%(field)s is longer than %(max)s characters.") % {"field": label, "max": max_length}
        )
    return text


def authorisation_document_check(document: UploadedFile) -> CheckedUpload:
    """Read the whole letter and refuse it unless it is a clean PDF, PNG or JPEG (``core.uploads``).

    Errors: ``document_empty``, ``document_too_large``, ``document_type_not_allowed``,
    ``document_damaged``, ``document_active_content``, ``document_too_many_pixels``."""
    try:
        return upload_check(document, max_bytes=settings.AUTHORISATION_DOCUMENT_MAX_BYTES)
    except UploadRejectedError as exc:
        raise MembershipError("document_" + exc.code.removeprefix("file_"), exc.message) from None


def enterprise_register(
    *, actor: User | None, uscc: str, name: str, legal_representative: str, effective_on: datetime.date | None = None
) -> Enterprise:
    """Create an enterprise with the first row of its profile history.

    Errors: ``uscc_*`` (invalid code), ``enterprise_exists`` (the code is already registered),
    ``name_required`` / ``legal_representative_required``.
    """
    code = uscc_validate(uscc)
    clean_name = _clean_text(name, code="name_required", label=str(_("Enterprise name")), max_length=200)
    clean_rep = _clean_text(
        legal_representative, code="legal_representative_required", label=str(_("Legal representative")), max_length=100
    )
    with transaction.atomic():
        if Enterprise.objects.filter(uscc=code).exists():
            raise EnterpriseError("enterprise_exists", _("An enterprise with this code is already registered."))
        try:
            with transaction.atomic():
                enterprise = Enterprise.objects.create(uscc=code, name=clean_name, legal_representative=clean_rep)
        except IntegrityError:
            # Registered by a concurrent request between the check and the insert.
            raise EnterpriseError(
                "enterprise_exists", _("An enterprise with this code is already registered.")
            ) from None
        EnterpriseProfileChange.objects.create(
            enterprise=enterprise,
            name=clean_name,
            legal_representative=clean_rep,
            effective_on=effective_on or timezone.localdate(),
            reason=str(_("Registered")),
            recorded_by=real_actor(actor),
        )
        audit_event_record(
            actor=actor, action="enterprise.registered", obj=enterprise, data={"uscc": code, "name": clean_name}
        )
    return enterprise


def enterprise_change_profile(
    *,
    actor: User,
    enterprise: Enterprise,
    name: str,
    legal_representative: str,
    effective_on: datetime.date,
    reason: str,
) -> EnterpriseProfileChange:
    """Record a change of registered name and/or legal representative, keeping the history.

    Errors: ``profile_unchanged`` when neither value changes, ``reason_required``, ``name_required``,
    ``legal_representative_required``.
    """
    clean_name = _clean_text(name, code="name_required", label=str(_("Enterprise name")), max_length=200)
    clean_rep = _clean_text(
        legal_representative, code="legal_representative_required", label=str(_("Legal representative")), max_length=100
    )
    clean_reason = _clean_text(reason, code="reason_required", label=str(_("Reason")), max_length=300)
    with transaction.atomic():
        locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        if locked.name == clean_name and locked.legal_representative == clean_rep:
            raise EnterpriseError("profile_unchanged", _("Neither the name nor the legal representative changed."))
        before = {"name": locked.name, "legal_representative": locked.legal_representative}
        locked.name = clean_name
        locked.legal_representative = clean_rep
        locked.save(update_fields=["name", "legal_representative", "updated_at"])
        change = EnterpriseProfileChange.objects.create(
            enterprise=locked,
            name=clean_name,
            legal_representative=clean_rep,
            effective_on=effective_on,
            reason=clean_reason,
            recorded_by=actor,
        )
        audit_event_record(
            actor=actor,
            action="enterprise.profile_changed",
            obj=locked,
            data={"before": before, "after": {"name": clean_name, "legal_representative": clean_rep}},
        )
    enterprise.refresh_from_db()
    return change


def membership_request(
    *,
    actor: User,
    enterprise: Enterprise,
    role: str,
    authorisation_document: UploadedFile | None = None,
    valid_from: datetime.date | None = None,
    valid_until: datetime.date | None = None,
) -> Membership:
    """``actor`` asks to act for ``enterprise``; the membership stays pending until confirmed.

    Errors: ``not_enterprise_user``, ``role_invalid``, ``document_required``, ``document_*``,
    ``validity_required``, ``validity_reversed``, ``validity_expired``, ``membership_exists``.
    """
    if not actor.is_enterprise_user:
        raise MembershipError("not_enterprise_user", _("Only enterprise accounts can act for an enterprise."))
    if role not in Membership.Role.values:
        raise MembershipError("role_invalid", _("Choose legal representative or authorised agent."))
    if role == Membership.Role.AGENT:
        if authorisation_document is None:
            raise MembershipError(
                "document_required", _("An authorised agent must upload the letter of authorisation.")
            )
        checked = authorisation_document_check(authorisation_document)
        if valid_from is None or valid_until is None:
            raise MembershipError("validity_required", _("Enter the period the authorisation is valid for."))
        if valid_until < valid_from:
            raise MembershipError("validity_reversed", _("The authorisation cannot end before it starts."))
        if valid_until < timezone.localdate():
            raise MembershipError("validity_expired", _("This authorisation has already expired."))
    else:
        authorisation_document, valid_from, valid_until, checked = None, None, None, None
    with transaction.atomic():
        if Membership.objects.filter(user=actor, enterprise=enterprise, status__in=Membership.OPEN_STATUSES).exists():
            raise MembershipError("membership_exists", _("You already have an open membership of this enterprise."))
        membership = Membership(
            user=actor, enterprise=enterprise, role=role, valid_from=valid_from, valid_until=valid_until
        )
        if authorisation_document is not None and checked is not None:
            membership.authorisation_document_name = checked.original_name
            membership.authorisation_document_type = checked.content_type
            membership.authorisation_document_sha256 = checked.sha256
            membership.authorisation_document.save(upload_store_name(checked), authorisation_document, save=False)
        try:
            with transaction.atomic():
                membership.save()
        except IntegrityError:
            # A concurrent request created the open membership between the check and the insert.
            raise MembershipError(
                "membership_exists", _("You already have an open membership of this enterprise.")
            ) from None
        audit_event_record(
            actor=actor,
            action="membership.requested",
            obj=membership,
            data={"enterprise": enterprise.uscc, "role": role},
        )
    return membership


def _membership_decide(
    *, actor: User, membership: Membership, from_status: str, to_status: str, action: str, note: str
) -> Membership:
    if not actor.has_perm("credit.confirm_membership"):
        raise MembershipError("permission_denied", _("You may not decide on enterprise memberships."))
    now = timezone.now()
    with transaction.atomic():
        # Compare-and-swap: of two administrators deciding at once, exactly one wins.
        changed = Membership.objects.filter(pk=membership.pk, status=from_status).update(
            status=to_status, decided_at=now, decided_by=actor, decision_note=note[:300]
        )
        if changed != 1:
            raise MembershipError(
                f"membership_not_{from_status}",
                _("This membership is no longer in the state you saw; reload the page."),
            )
        membership.refresh_from_db()
        audit_event_record(
            actor=actor, action=action, obj=membership, data={"from": from_status, "to": to_status, "note": note[:300]}
        )
    return membership


def membership_confirm(*, actor: User, membership: Membership, note: str = "") -> Membership:
    """Confirm a pending membership (administrator). Errors: ``permission_denied``, ``membership_not_pending``."""
    return _membership_decide(
        actor=actor,
        membership=membership,
        from_status=Membership.Status.PENDING,
        to_status=Membership.Status.CONFIRMED,
        action="membership.confirmed",
        note=note,
    )


def membership_reject(*, actor: User, membership: Membership, note: str) -> Membership:
    """Reject a pending membership, with a reason. Errors: ``reason_required``, ``permission_denied``,
    ``membership_not_pending``."""
    if not note.strip():
        raise MembershipError("reason_required", _("Give the reason for the rejection."))
    return _membership_decide(
        actor=actor,
        membership=membership,
        from_status=Membership.Status.PENDING,
        to_status=Membership.Status.REJECTED,
        action="membership.rejected",
        note=note,
    )


def membership_revoke(*, actor: User, membership: Membership, note: str) -> Membership:
    """End a confirmed membership, with a reason. Errors: ``reason_required``, ``permission_denied``,
    ``membership_not_confirmed``."""
    if not note.strip():
        raise MembershipError("reason_required", _("Give the reason for the revocation."))
    return _membership_decide(
        actor=actor,
        membership=membership,
        from_status=Membership.Status.CONFIRMED,
        to_status=Membership.Status.REVOKED,
        action="membership.revoked",
        note=note,
    )


def enterprise_claim(
    *,
    actor: User,
    uscc: str,
    name: str,
    legal_representative: str,
    role: str,
    authorisation_document: UploadedFile | None = None,
    valid_from: datetime.date | None = None,
    valid_until: datetime.date | None = None,
) -> Membership:
    """An enterprise user asks to act for the enterprise with code ``uscc``.

    An enterprise not yet known is registered from the name and legal representative given; a
    known one keeps its registered values. Either way the membership is pending until an
    administrator confirms it, so claiming a code reveals nothing of the enterprise. Errors: those
    of ``enterprise_register`` and ``membership_request``.
    """
    code = uscc_validate(uscc)
    with transaction.atomic():
        enterprise = Enterprise.objects.filter(uscc=code).first()
        if enterprise is None:
            try:
                with transaction.atomic():
                    enterprise = enterprise_register(
                        actor=actor, uscc=code, name=name, legal_representative=legal_representative
                    )
            except EnterpriseError as exc:
                if exc.code != "enterprise_exists":
                    raise
                enterprise = Enterprise.objects.get(uscc=code)
        return membership_request(
            actor=actor,
            enterprise=enterprise,
            role=role,
            authorisation_document=authorisation_document,
            valid_from=valid_from,
            valid_until=valid_until,
        )


def enterprise_user_register(
    *,
    username: str,
    password: str,
    display_name: str,
    email: str,
    phone: str,
    uscc: str,
    enterprise_name: str,
    legal_representative: str,
    role: str,
    authorisation_document: UploadedFile | None = None,
    valid_from: datetime.date | None = None,
    valid_until: datetime.date | None = None,
) -> tuple[User, Membership]:
    """Self-registration: a new enterprise account and its (pending) membership, together.

    The password must already have passed the password validators (the form runs them with the
    user's attributes). Errors: ``username_taken`` and those of ``enterprise_claim``.
    """
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise MembershipError("username_taken", _("This user name is already taken."))
        user = User(username=username, display_name=display_name, email=email, phone=phone, kind=User.Kind.ENTERPRISE)
        user.set_password(password)
        user.save()
        audit_event_record(actor=user, action="user.registered", obj=user, data={"username": username})
        membership = enterprise_claim(
            actor=user,
            uscc=uscc,
            name=enterprise_name,
            legal_representative=legal_representative,
            role=role,
            authorisation_document=authorisation_document,
            valid_from=valid_from,
            valid_until=valid_until,
        )
    return user, membership
