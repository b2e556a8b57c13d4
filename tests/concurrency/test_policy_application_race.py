"""The same enterprise applying twice at once for one policy: exactly one application is open,
the other submission gets ``application_open`` and writes nothing (PostgreSQL, real threads)."""

from __future__ import annotations

import pytest

from core.exceptions import DomainError
from credit.policies import services as policy_services
from credit.policies.models import ApplicationStatus, EligibilityDecision, PolicyApplication
from tests import factories
from tests.concurrency.conftest import run_concurrently
from tests.credit.test_policy_services import make_policy

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ROUNDS = 5
THREADS = 4


def test_concurrent_applications_of_one_enterprise_open_exactly_one():
    policy = make_policy()
    for _round in range(ROUNDS):
        membership = factories.MembershipFactory(confirmed=True)
        enterprise, owner = membership.enterprise, membership.user

        def apply(enterprise=enterprise, owner=owner):  # type: ignore[no-untyped-def]
            return policy_services.policy_application_submit(actor=owner, enterprise=enterprise, policy=policy)

        results = run_concurrently(*(apply for _ in range(THREADS)))
        created = [r for r in results if isinstance(r, PolicyApplication)]
        refused = [r for r in results if isinstance(r, DomainError)]
        assert len(created) == 1, results
        assert [r.code for r in refused] == ["application_open"] * (THREADS - 1), results
        assert created[0].status == ApplicationStatus.PENDING_REVIEW
        assert PolicyApplication.objects.filter(enterprise=enterprise).count() == 1
        # the refused submissions rolled back their eligibility decisions too
        assert EligibilityDecision.objects.filter(enterprise=enterprise).count() == 1
