"""The mapping of a verified identity to an account (approvals.organisation.sso), case by case.

The whole flow against a real provider is in tests/web/accounts/test_sso.py; here the cases that
need particular data: pending and agent memberships, two candidate accounts, a disabled linked
account, white space and full-width spaces in the claims.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from approvals.organisation.sso import SSORefusedError, sso_login_resolve
from core.models import AuditEvent, ExternalIdentity, User
from credit.models import Membership
from tests import factories

ISSUER = "https://idp.example.gov.cn"


def _resolve(subject: str = "sub-1", **claims: str):  # type: ignore[no-untyped-def]
    return sso_login_resolve(issuer=ISSUER, subject=subject, claims={"sub": subject, **claims})


def test_a_local_account_with_only_a_pending_claim_is_not_linked(db) -> None:  # type: ignore[no-untyped-def]
    # Anyone can claim to be the legal representative; only an administrator's confirmation makes
    # a local account the one the provider's person is linked to.
    enterprise = factories.EnterpriseFactory(legal_representative="张伟")
    local = factories.UserFactory(display_name="张伟")
    pending = factories.MembershipFactory(user=local, enterprise=enterprise)

    result = _resolve(uscc=enterprise.uscc, name="张伟")

    assert result.user != local and result.created
    pending.refresh_from_db()
    assert pending.status == Membership.Status.PENDING


def test_a_rejected_membership_of_the_linked_account_is_not_restored(db) -> None:  # type: ignore[no-untyped-def]
    enterprise = factories.EnterpriseFactory(legal_representative="张伟")
    own = _resolve(uscc=enterprise.uscc, name="张伟").user
    Membership.objects.filter(user=own).update(status=Membership.Status.REJECTED)

    with pytest.raises(SSORefusedError) as refused:
        _resolve(uscc=enterprise.uscc, name="张伟")

    assert refused.value.code == "sso_membership_ended"


def test_a_pending_membership_of_the_linked_account_is_confirmed(db) -> None:  # type: ignore[no-untyped-def]
    enterprise = factories.EnterpriseFactory(legal_representative="张伟")
    user = factories.UserFactory(display_name="张伟")
    ExternalIdentity.objects.create(issuer=ISSUER, subject="sub-1", user=user)
    pending = factories.MembershipFactory(user=user, enterprise=enterprise)

    result = _resolve(uscc=enterprise.uscc, name="张伟")

    assert result.user == user and not result.created
    pending.refresh_from_db()
    assert pending.status == Membership.Status.CONFIRMED and pending.decided_at is not None
    assert AuditEvent.objects.filter(action="membership.sso_verified", object_id=str(pending.pk)).exists()


def test_an_open_agent_membership_is_not_turned_into_a_legal_representative(db) -> None:  # type: ignore[no-untyped-def]
    enterprise = factories.EnterpriseFactory(legal_representative="张伟")
    user = factories.UserFactory(display_name="张伟")
    ExternalIdentity.objects.create(issuer=ISSUER, subject="sub-1", user=user)
    factories.MembershipFactory(user=user, enterprise=enterprise, agent=True, confirmed=True)

    with pytest.raises(SSORefusedError) as refused:
        _resolve(uscc=enterprise.uscc, name="张伟")

    assert refused.value.code == "sso_membership_conflict"
    assert Membership.objects.filter(user=user).count() == 1


def test_two_local_accounts_under_the_same_name_are_not_guessed_between(db) -> None:  # type: ignore[no-untyped-def]
    enterprise = factories.EnterpriseFactory(legal_representative="张伟")
    for _ in range(2):
        factories.MembershipFactory(
            user=factories.UserFactory(display_name="张伟"), enterprise=enterprise, confirmed=True
        )
    users_before = User.objects.count()

    with pytest.raises(SSORefusedError) as refused:
        _resolve(uscc=enterprise.uscc, name="张伟")

    assert refused.value.code == "sso_identity_ambiguous"
    assert User.objects.count() == users_before and not ExternalIdentity.objects.exists()
    assert AuditEvent.objects.filter(action="account.sso_refused", data__code="sso_identity_ambiguous").count() == 1


def test_a_disabled_linked_account_is_refused(db) -> None:  # type: ignore[no-untyped-def]
    enterprise = factories.EnterpriseFactory(legal_representative="张伟")
    user = factories.UserFactory(display_name="张伟", is_active=False)
    ExternalIdentity.objects.create(issuer=ISSUER, subject="sub-1", user=user)
    with pytest.raises(SSORefusedError) as refused:
        _resolve(uscc=enterprise.uscc, name="张伟")
    assert refused.value.code == "sso_account_inactive"
    assert not Membership.objects.filter(user=user).exists()


def test_claims_are_compared_without_white_space_and_in_any_form_of_the_code(db) -> None:  # type: ignore[no-untyped-def]
    enterprise = factories.EnterpriseFactory(legal_representative="张伟")
    messy_code = " ".join(enterprise.uscc.lower()[i : i + 6] for i in range(0, 18, 6))
    result = _resolve(uscc=messy_code, name=" 张伟\u3000")
    assert Membership.objects.get(user=result.user).enterprise == enterprise


def test_an_invalid_code_is_refused_like_an_unknown_enterprise(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SSORefusedError) as refused:
        _resolve(uscc="not-a-code", name="张伟")
    assert refused.value.code == "sso_enterprise_unknown"


def test_employee_id_takes_precedence_and_never_reaches_an_enterprise_account(db) -> None:  # type: ignore[no-untyped-def]
    # An enterprise account cannot carry an employee id (constraint), so the claim finds staff only.
    enterprise = factories.EnterpriseFactory(legal_representative="张伟")
    with pytest.raises(SSORefusedError) as refused:
        _resolve(employee_id="E1", uscc=enterprise.uscc, name="张伟")
    assert refused.value.code == "sso_staff_unknown"
    assert not Membership.objects.exists()


def test_a_staff_account_linked_to_an_enterprise_identity_does_not_act_for_it(db) -> None:  # type: ignore[no-untyped-def]
    enterprise = factories.EnterpriseFactory(legal_representative="张伟")
    staff = factories.UserFactory(staff=True, display_name="张伟")
    ExternalIdentity.objects.create(issuer=ISSUER, subject="sub-1", user=staff)
    with pytest.raises(SSORefusedError) as refused:
        _resolve(uscc=enterprise.uscc, name="张伟")
    assert refused.value.code == "sso_enterprise_unknown"
    assert not Membership.objects.filter(user=staff).exists()


def test_employee_id_belongs_to_staff_accounts_only(db) -> None:  # type: ignore[no-untyped-def]

    with pytest.raises(ValidationError) as invalid:
        factories.UserFactory.build(employee_id="E7").full_clean()
    assert "__all__" in invalid.value.error_dict  # the constraint, not a field
    with transaction.atomic(), pytest.raises(IntegrityError):
        factories.UserFactory(employee_id="E7")
    factories.UserFactory(staff=True, employee_id="E7")
    with transaction.atomic(), pytest.raises(IntegrityError):
        factories.UserFactory(staff=True, employee_id="E7")
