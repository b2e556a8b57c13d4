"""The public resources: what the public screens show, to anyone, read only, and nothing private."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from approvals.catalogue import services as catalogue
from approvals.models import ApprovalItemVersion, InspectionTask
from approvals.supervision import campaigns as campaign_services
from core.models import User
from tests.approvals.test_campaigns import SEED, certify, new_campaign, record
from tests.workflows.conftest import make_item

pytestmark = pytest.mark.django_db

API = "/api/v1/public/"


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


def test_item_list_is_the_published_list_with_filters(anon, bureau):
    food = make_item(bureau, name="食品经营许可", code="IT-FOOD")
    make_item(bureau, name="建筑工程施工许可", code="IT-BUILD", lead_department=bureau.co[0])
    draft = catalogue.item_draft_create(
        actor=None,
        code="IT-DRAFT",
        name="未公布事项",
        legal_basis="x",
        lead_department=bureau.lead,
        desk_department=bureau.desk,
        statutory_limit_days=20,
        promised_limit_days=10,
        review_limit_days=5,
        co_review_departments=[],
        materials=[],
    )
    assert draft.status == ApprovalItemVersion.Status.DRAFT

    everything = anon.get(f"{API}items/").json()["results"]
    by_keyword = anon.get(f"{API}items/", {"q": "建筑"}).json()["results"]
    by_department = anon.get(f"{API}items/", {"department": bureau.co[0].pk}).json()["results"]

    assert [row["code"] for row in everything] == ["IT-BUILD", "IT-FOOD"]
    assert [row["code"] for row in by_keyword] == ["IT-BUILD"]
    assert "IT-BUILD" in [row["code"] for row in by_department]
    assert everything[1]["promised_limit_days"] == food.promised_limit_days


def test_item_guide_names_the_materials_and_a_missing_item_is_404(anon, bureau):
    version = make_item(bureau, code="IT-GUIDE")

    guide = anon.get(f"{API}items/IT-GUIDE/")

    assert guide.status_code == 200
    body = guide.json()
    assert body["version_id"] == version.pk
    assert [m["name"] for m in body["materials"]] == ["申请书", "场所平面图"]
    assert body["materials"][1]["may_be_missing"] is True
    assert len(body["co_review_departments"]) == 2
    missing = anon.get(f"{API}items/NO-SUCH/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_public_resources_refuse_writes(anon, bureau):
    make_item(bureau, code="IT-RO")

    response = anon.post(f"{API}items/IT-RO/", {}, format="json")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_certificate_verification_by_number(anon, bureau):
    from tests import factories

    version = make_item(bureau, co_review=0)
    enterprise = factories.MembershipFactory(confirmed=True).enterprise
    valid = certify(enterprise, version)
    expired = certify(enterprise, version, valid_until=timezone.localdate() - datetime.timedelta(days=1))
    revoked = certify(enterprise, version, revoked=True)

    states = {c.number: anon.get(f"{API}certificates/{c.number}/").json() for c in (valid, expired, revoked)}

    assert states[valid.number]["state"] == "valid"
    assert states[expired.number]["state"] == "expired"
    assert states[revoked.number]["state"] == "revoked" and states[revoked.number]["revocation_reason"]
    assert states[valid.number]["holder_code"] == enterprise.uscc
    # the verification page's facts and nothing else (no application, no applicant, no code to guess)
    assert set(states[valid.number]) == {
        "number",
        "state",
        "certificate_type",
        "holder_name",
        "holder_code",
        "issuer",
        "issued_at",
        "valid_from",
        "valid_until",
        "revoked_at",
        "revocation_reason",
    }
    assert anon.get(f"{API}certificates/{valid.number.lower()}/").json()["number"] == valid.number
    assert anon.get(f"{API}certificates/NO-SUCH-1/").status_code == 404


def test_campaign_results_are_public_and_hold_nothing_private(anon, verified):
    tasks = list(InspectionTask.objects.filter(campaign=verified).order_by("draw_position"))
    record(tasks[0], "pass", findings="秘密的检查发现")

    listing = anon.get(f"{API}campaigns/").json()["results"]
    detail = anon.get(f"{API}campaigns/{verified.code}/").json()
    sample = anon.get(f"{API}campaigns/{verified.code}/sample/").json()["results"]

    assert [row["code"] for row in listing] == [verified.code]
    assert listing[0]["sample_count"] == len(tasks)
    assert detail["targets_sha256"] == verified.targets_sha256 and detail["seed"] == SEED
    assert sum(t["count"] for t in detail["tally"]) == len(tasks)
    assert [row["draw_position"] for row in sample] == sorted(t.draw_position for t in tasks)
    assert sample[0]["outcome"] == InspectionTask.Outcome.PASSED
    text = str(listing) + str(detail) + str(sample)
    assert "秘密的检查发现" not in text
    for inspector in User.objects.filter(username__startswith="insp_"):
        assert inspector.username not in text


def test_draft_campaigns_are_not_public(anon, setting):
    draft = new_campaign(setting, code="DRAFT-API")

    assert anon.get(f"{API}campaigns/").json()["results"] == []
    assert anon.get(f"{API}campaigns/{draft.code}/").status_code == 404
    assert anon.get(f"{API}campaigns/{draft.code}/sample/").status_code == 404
    campaign_services.campaign_freeze(actor=setting.organiser, campaign=draft)
    frozen = anon.get(f"{API}campaigns/{draft.code}/").json()
    assert frozen["status"] == "frozen" and frozen["tally"] == []
    assert anon.get(f"{API}campaigns/{draft.code}/sample/").json()["results"] == []


def test_anonymous_callers_are_throttled_per_address(anon, bureau, settings, monkeypatch):
    from web.api.tokens import AnonRateThrottle

    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"api_anon": "2/minute"})

    answers = [anon.get(f"{API}items/").status_code for _ in range(3)]

    assert answers == [200, 200, 429]
