"""The approvals emit their webhook events from the real services, in their transactions: every
status change, the decision (with its certificate), a revocation; on the commitment route too. The
payloads carry identifiers, public numbers and states only."""

from __future__ import annotations

import pytest

from approvals.applications import services as application_services
from approvals.models import Application, Certificate
from core.webhooks.models import EventKind, WebhookDelivery, WebhookSubscription
from tests.workflows.conftest import accept, file_application, make_item, new_draft, review_all
from tests.workflows.test_commitment_flow import sign, supervision  # noqa: F401  (the fixture)
from tests.workflows.test_standard_flow import decide

pytestmark = pytest.mark.django_db
Status = Application.Status


@pytest.fixture
def subscription() -> WebhookSubscription:
    # Never sent here: on_commit hand-offs do not run in these (rolled-back) test transactions.
    return WebhookSubscription.objects.create(
        name="一网通办", target_url="https://portal.example.cn/hooks", event_kinds=list(EventKind.values)
    )


def payloads(kind: str) -> list[dict]:
    return list(WebhookDelivery.objects.filter(event_kind=kind).order_by("id").values_list("payload", flat=True))


def test_a_standard_application_emits_each_status_change_its_decision_and_the_revocation(
    subscription, bureau, owner, enterprise
):
    version = make_item(bureau, co_review=1)
    application = file_application(owner, enterprise, version)
    accept(bureau, application)
    review_all(bureau, application)
    decide(bureau, application)
    certificate = Certificate.objects.get(application=application)
    revoked = application_services.certificate_revoke(
        actor=bureau.decider, certificate=certificate, reason="许可条件消失"
    )

    changes = payloads(EventKind.APPLICATION_STATUS_CHANGED)
    assert [(p["from_status"], p["to_status"]) for p in changes] == [
        (Status.DRAFT, Status.SUBMITTED),
        (Status.SUBMITTED, Status.IN_REVIEW),
        (Status.IN_REVIEW, Status.AWAITING_DECISION),
        (Status.AWAITING_DECISION, Status.APPROVED),
    ]
    assert changes[0]["application"] == {
        "id": application.pk,
        "reference": application.reference,
        "enterprise_uscc": enterprise.uscc,
        "item_code": version.item.code,
        "item_version": version.number,
    }
    assert set(changes[0]) == {"application", "from_status", "to_status", "action", "changed_at"}
    (decided,) = payloads(EventKind.APPLICATION_DECIDED)
    assert (decided["outcome"], decided["route"], decided["certificate_number"]) == (
        "approved",
        "standard",
        certificate.number,
    )
    (revocation,) = payloads(EventKind.CERTIFICATE_REVOKED)
    assert revocation == {
        "certificate_number": certificate.number,
        "application_reference": application.reference,
        "enterprise_uscc": enterprise.uscc,
        "revoked_at": revoked.revoked_at.isoformat(),
        "reason": "许可条件消失",
    }
    # one delivery per event, each under its own dedupe key
    assert WebhookDelivery.objects.filter(subscription=subscription).count() == 6
    assert WebhookDelivery.objects.values("dedupe_key").distinct().count() == 6


def test_a_refusal_is_a_decision_without_certificate(subscription, bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau, co_review=1))
    accept(bureau, application)
    review_all(bureau, application)
    decide(bureau, application, outcome="refused", reasons="不符合条件")

    (decided,) = payloads(EventKind.APPLICATION_DECIDED)
    assert (decided["outcome"], decided["certificate_number"]) == ("refused", None)
    assert "reasons" not in decided  # the reasons are the applicant's, not every subscriber's


def test_a_refused_transition_emits_nothing(subscription, bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau, co_review=1))
    before = WebhookDelivery.objects.count()
    with pytest.raises(application_services.ApplicationError):
        application_services.application_reviews_complete(application=application)  # not yet accepted
    assert WebhookDelivery.objects.count() == before


def test_the_commitment_route_emits_its_approval_and_decision(subscription, owner, enterprise, supervision):  # noqa: F811
    application = new_draft(owner, enterprise, supervision["version"])
    sign(owner, application)
    application.refresh_from_db()

    (change,) = payloads(EventKind.APPLICATION_STATUS_CHANGED)
    assert (change["from_status"], change["to_status"], change["action"]) == (
        Status.DRAFT,
        Status.APPROVED,
        "commitment_signed",
    )
    (decided,) = payloads(EventKind.APPLICATION_DECIDED)
    assert decided["route"] == "commitment"
    assert decided["certificate_number"] == Certificate.objects.get(application=application).number


def test_no_subscriber_no_delivery(bureau, owner, enterprise):
    WebhookSubscription.objects.create(
        name="off", target_url="https://x.example.cn/", event_kinds=list(EventKind.values), is_active=False
    )
    file_application(owner, enterprise, make_item(bureau, co_review=1))
    assert not WebhookDelivery.objects.exists()
