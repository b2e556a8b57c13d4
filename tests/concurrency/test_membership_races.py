"""Races on PostgreSQL with real threads: each side has its own connection and transaction."""

import pytest

from approvals.models import RoleAssignment
from approvals.organisation import services as org
from approvals.organisation.roles import StaffRole
from approvals.organisation.services import OrganisationError
from core.models import AuditEvent
from credit.enterprises import services
from credit.enterprises.services import MembershipError
from credit.models import Enterprise, Membership
from tests import factories
from tests.concurrency.conftest import run_concurrently

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_two_administrators_confirming_at_once_confirm_once():
    membership = factories.MembershipFactory()
    admin_a = factories.staff_with_role(StaffRole.ADMINISTRATOR)
    admin_b = factories.staff_with_role(StaffRole.ADMINISTRATOR)

    results = run_concurrently(
        lambda: services.membership_confirm(actor=admin_a, membership=Membership.objects.get(pk=membership.pk)),
        lambda: services.membership_confirm(actor=admin_b, membership=Membership.objects.get(pk=membership.pk)),
    )

    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1
    assert isinstance(errors[0], MembershipError) and errors[0].code == "membership_not_pending"
    assert AuditEvent.objects.filter(action="membership.confirmed").count() == 1
    assert Membership.objects.get(pk=membership.pk).status == Membership.Status.CONFIRMED


def test_confirm_and_reject_at_once_leave_one_decision():
    membership = factories.MembershipFactory()
    admin_a = factories.staff_with_role(StaffRole.ADMINISTRATOR)
    admin_b = factories.staff_with_role(StaffRole.ADMINISTRATOR)

    results = run_concurrently(
        lambda: services.membership_confirm(actor=admin_a, membership=Membership.objects.get(pk=membership.pk)),
        lambda: services.membership_reject(
            actor=admin_b, membership=Membership.objects.get(pk=membership.pk), note="不符"
        ),
    )

    assert sum(isinstance(r, Exception) for r in results) == 1
    decided = AuditEvent.objects.filter(action__in=["membership.confirmed", "membership.rejected"])
    assert decided.count() == 1
    final = Membership.objects.get(pk=membership.pk).status
    assert final == {"membership.confirmed": "confirmed", "membership.rejected": "rejected"}[decided.get().action]


def test_two_users_claiming_the_same_new_code_share_one_enterprise():
    first, second = factories.UserFactory(), factories.UserFactory()
    code = factories.next_uscc()

    results = run_concurrently(
        lambda: services.enterprise_claim(
            actor=first, uscc=code, name="甲公司", legal_representative="甲", role="legal_rep"
        ),
        lambda: services.enterprise_claim(
            actor=second, uscc=code, name="乙公司", legal_representative="乙", role="legal_rep"
        ),
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Enterprise.objects.filter(uscc=code).count() == 1
    assert Membership.objects.filter(enterprise__uscc=code, status="pending").count() == 2
    assert AuditEvent.objects.filter(action="enterprise.registered").count() == 1


def test_same_user_double_submitting_a_claim_gets_one_membership(enterprise):
    user = factories.UserFactory()

    results = run_concurrently(
        *[lambda: services.membership_request(actor=user, enterprise=enterprise, role="legal_rep")] * 3
    )

    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 2
    assert all(isinstance(e, MembershipError) and e.code == "membership_exists" for e in errors)
    assert Membership.objects.filter(user=user, enterprise=enterprise).count() == 1


def test_granting_the_same_role_twice_at_once_grants_once():
    department = factories.department()
    staff = factories.UserFactory(staff=True)

    results = run_concurrently(
        lambda: org.staff_role_grant(actor=None, user=staff, role=StaffRole.REVIEWER, department=department),
        lambda: org.staff_role_grant(actor=None, user=staff, role=StaffRole.REVIEWER, department=department),
    )

    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1
    assert isinstance(errors[0], OrganisationError) and errors[0].code == "role_already_held"
    assert RoleAssignment.objects.filter(user=staff).count() == 1
