"""What an enterprise is told about its credit and policies: an entry recorded against it (and the
grade it moved), an objection or repair decided, a policy application decided, an instalment paid —
every person acting for it, nobody acting for another enterprise, in the recipient's language."""

from __future__ import annotations

import pytest
from django.utils import timezone

from core.outbox.models import OutboxMessage, SiteMessage
from credit.ledger import selectors as ledger_selectors
from credit.ledger import services as ledger_services
from credit.ledger.models import CreditRequest
from credit.policies import services as policy_services
from tests import factories
from tests.credit.ledger_helpers import append
from tests.credit.test_policy_services import make_policy, submit
from tests.workflows.conftest import bureau  # noqa: F401  (fixture)
from tests.workflows.test_commitment_flow import supervision  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _kinds(user) -> list[str]:  # type: ignore[no-untyped-def]
    return list(OutboxMessage.objects.filter(recipient=user).order_by("id").values_list("kind", flat=True))


@pytest.fixture
def policy_office():  # type: ignore[no-untyped-def]
    return factories.staff_with_role("policy_office")


@pytest.fixture
def credit_officer():  # type: ignore[no-untyped-def]
    return factories.staff_with_role("credit_office")


def test_an_entry_and_the_grade_it_moves_reach_every_member_and_no_one_else(
    owner, peer, enterprise, django_capture_on_commit_callbacks
):
    agent = factories.MembershipFactory(enterprise=enterprise, confirmed=True).user
    with django_capture_on_commit_callbacks(execute=True):
        entry = append(enterprise, "admin_penalty")
    for member in (owner, agent):
        assert _kinds(member) == ["credit.entry_recorded", "credit.grade_changed"]
    assert _kinds(peer) == []
    recorded = SiteMessage.objects.get(recipient=owner, message__kind="credit.entry_recorded")
    assert entry.kind.name in recorded.body and entry.deciding_authority in recorded.body
    grade = SiteMessage.objects.get(recipient=owner, message__kind="credit.grade_changed")
    assert "由 B 变为 C" in grade.body and grade.title.endswith(" C")  # zh-hans, the default language


def test_an_entry_that_leaves_the_grade_tells_only_the_entry(owner, enterprise):
    append(enterprise, "admin_penalty")
    before = ledger_selectors.credit_grade_as_of(enterprise=enterprise).grade
    append(enterprise, "commitment_fulfilled", days_ago=5)
    after = ledger_selectors.credit_grade_as_of(enterprise=enterprise).grade
    kinds = _kinds(owner)
    assert kinds.count("credit.entry_recorded") == 2
    assert kinds.count("credit.grade_changed") == (1 if before == after else 2)


def test_the_entry_kind_is_named_in_the_recipients_language(owner, enterprise, django_capture_on_commit_callbacks):
    owner.language = "en"
    owner.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        entry = append(enterprise, "admin_penalty")
    message = SiteMessage.objects.get(recipient=owner, message__kind="credit.entry_recorded")
    assert message.title.startswith("A credit record was entered for ")
    assert entry.kind.name_en in message.body


def test_a_decided_repair_tells_the_enterprise_once(
    owner, enterprise, credit_officer, django_capture_on_commit_callbacks
):
    original = append(enterprise, "admin_penalty", days_ago=120)
    request = ledger_services.credit_request_submit(
        actor=owner,
        enterprise=enterprise,
        entry=original,
        kind=CreditRequest.Kind.REPAIR,
        statement="已整改完毕",
        evidence="整改报告",
        commitment="本企业承诺诚信经营",
    )
    with django_capture_on_commit_callbacks(execute=True):
        ledger_services.credit_request_decide(
            actor=credit_officer, credit_request=request, grant=True, reason="整改到位"
        )
    kinds = _kinds(owner)
    assert kinds.count("credit.request_granted") == 1
    assert "credit.request_refused" not in kinds
    assert kinds.count("credit.entry_recorded") == 1  # the repair entry itself is said by the decision
    granted = SiteMessage.objects.get(recipient=owner, message__kind="credit.request_granted")
    assert "整改到位" in granted.body


def test_policy_decisions_and_instalments_are_told(
    owner, peer, enterprise, policy_office, django_capture_on_commit_callbacks
):
    application = submit(owner, enterprise, make_policy("subsidy", kind="interest_subsidy"))
    grant = policy_services.policy_application_approve(
        actor=policy_office, application=application, amount="90000", term_months=12
    )
    policy_services.disbursement_record(
        actor=policy_office, grant=grant, amount="30000", paid_on=timezone.localdate(), reference="付款凭证-1"
    )
    assert _kinds(owner) == ["policy.approved", "policy.disbursed"]
    assert _kinds(peer) == []
    paid = OutboxMessage.objects.get(recipient=owner, kind="policy.disbursed")
    assert paid.context["remaining"] == "60000.00" and paid.context["number"] == 1

    refused = submit(owner, enterprise, make_policy("guarantee"))
    with django_capture_on_commit_callbacks(execute=True):
        policy_services.policy_application_refuse(actor=policy_office, application=refused, reason="材料不实")
    assert _kinds(owner)[-1] == "policy.refused"
    assert "材料不实" in SiteMessage.objects.get(recipient=owner, message__kind="policy.refused").body


def test_a_verification_assigned_is_told_with_its_due_day(owner, enterprise, supervision):  # noqa: F811
    """(Commitment route) the applicant learns that two inspectors will verify by a day."""
    from approvals.models import InspectionTask
    from tests.workflows.test_commitment_flow import commit_case

    _application, task = commit_case(owner, enterprise, supervision)
    message = OutboxMessage.objects.get(recipient=owner, kind="application.inspection_assigned")
    assert message.context["deadline"] == InspectionTask.objects.get(pk=task.pk).due_on.isoformat()
