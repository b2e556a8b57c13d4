"""Races on PolicyApplicationFlow, with real threads on PostgreSQL: the same enterprise applying
twice at once gets one application and one process; two policy-office users deciding at once (or
the office deciding while the enterprise withdraws) produce exactly one outcome, and the process
agrees with the application."""

from __future__ import annotations

import pytest
from viewflow.workflow.models import Process, Task

from approvals.organisation.roles import StaffRole
from core.exceptions import DomainError
from credit.policies.models import ApplicationStatus, EligibilityDecision, PolicyApplication, PolicyGrant
from tests import factories
from tests.concurrency.conftest import run_concurrently
from tests.credit.test_policy_services import make_policy
from workflows.actions import policies as policy_actions
from workflows.policy_flows import PolicyApplicationFlow

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ROUNDS = 5
THREADS = 4


def _trail(application: PolicyApplication) -> list[tuple[str, str]]:
    process = policy_actions.process_of(application)
    assert process is not None
    return [(t.flow_task.name, t.status) for t in Task.objects.filter(process=process).order_by("pk")]


def _apply(owner, enterprise, policy):  # type: ignore[no-untyped-def]
    return policy_actions.policy_apply_and_start(
        actor=owner, enterprise=enterprise, policy=policy, requested_amount="1000", requested_term_months=12
    )


def test_the_same_enterprise_applying_at_once_gets_one_application_and_one_process():
    policy = make_policy("loan-race")
    for _round in range(ROUNDS):
        membership = factories.MembershipFactory(confirmed=True)
        enterprise, owner = membership.enterprise, membership.user

        results = run_concurrently(*(lambda: _apply(owner, enterprise, policy) for _ in range(THREADS)))

        created = [r for r in results if isinstance(r, PolicyApplication)]
        refused = [r for r in results if isinstance(r, DomainError)]
        assert len(created) == 1, results
        assert [r.code for r in refused] == ["application_open"] * (THREADS - 1), results
        application = PolicyApplication.objects.get(enterprise=enterprise)
        assert application.status == ApplicationStatus.PENDING_REVIEW
        processes = Process.objects.filter(flow_class=PolicyApplicationFlow, artifact_object_id=application.pk)
        assert processes.count() == 1
        # the losers rolled back everything: their decisions and their processes
        assert EligibilityDecision.objects.filter(enterprise=enterprise).count() == 1
        assert _trail(application)[-1] == ("review", "NEW")
    assert Process.objects.filter(flow_class=PolicyApplicationFlow).count() == ROUNDS


def test_two_policy_office_users_approving_at_once_make_one_grant():
    policy = make_policy("subsidy-race", kind="interest_subsidy")
    officers = [factories.staff_with_role(StaffRole.POLICY_OFFICE) for _ in range(2)]
    for _round in range(ROUNDS):
        membership = factories.MembershipFactory(confirmed=True)
        application = _apply(membership.user, membership.enterprise, policy)

        results = run_concurrently(
            *(
                lambda officer=officer: policy_actions.policy_approve_and_route(
                    actor=officer,
                    application=PolicyApplication.objects.get(pk=application.pk),
                    amount="1000",
                    term_months=12,
                )
                for officer in officers
            )
        )

        grants = [r for r in results if isinstance(r, PolicyGrant)]
        refused = [r for r in results if isinstance(r, DomainError)]
        assert len(grants) == 1 and [r.code for r in refused] == ["application_not_pending"], results
        assert PolicyGrant.objects.filter(application=application).count() == 1
        assert _trail(application) == [
            ("start", "DONE"),
            ("check_eligible", "DONE"),
            ("review", "DONE"),
            ("check_approved", "DONE"),
            ("granted", "DONE"),
        ]


def test_approval_racing_a_withdrawal_has_exactly_one_outcome():
    policy = make_policy("loan-withdraw-race")
    officer = factories.staff_with_role(StaffRole.POLICY_OFFICE)
    outcomes = set()
    for _round in range(ROUNDS):
        membership = factories.MembershipFactory(confirmed=True)
        application = _apply(membership.user, membership.enterprise, policy)

        results = run_concurrently(
            lambda: policy_actions.policy_approve_and_route(
                actor=officer,
                application=PolicyApplication.objects.get(pk=application.pk),
                amount="1000",
                term_months=6,
            ),
            lambda: policy_actions.policy_withdraw_and_cancel(
                actor=membership.user, application=PolicyApplication.objects.get(pk=application.pk)
            ),
        )

        errors = [r for r in results if isinstance(r, Exception)]
        assert len(errors) == 1 and isinstance(errors[0], DomainError), results
        assert errors[0].code == "application_not_pending"
        application.refresh_from_db()
        process = policy_actions.process_of(application)
        assert process is not None
        if application.status == ApplicationStatus.APPROVED:
            assert process.status == "DONE" and _trail(application)[-1] == ("granted", "DONE")
        else:
            assert application.status == ApplicationStatus.WITHDRAWN
            assert process.status == "CANCELED" and _trail(application)[-1] == ("review", "CANCELED")
            assert not PolicyGrant.objects.filter(application=application).exists()
        outcomes.add(application.status)
    assert outcomes <= {ApplicationStatus.APPROVED, ApplicationStatus.WITHDRAWN}
