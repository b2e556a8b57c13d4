"""Fast track in the standard flow (issue 6, item 6): a published fast-track credit policy covering
the item gives an eligible enterprise a shorter promised limit and 容缺 acceptance, decided at
submission through ``credit.policies.services.fast_track_check`` and stored on the application."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals.applications import fast_track, services
from approvals.calendar.selectors import add_working_days
from approvals.models import Application, ApplicationEvent
from core.exceptions import DomainError
from credit.policies import selectors as policy_selectors
from credit.policies import services as policy_services
from credit.policies.models import EligibilityDecision, Policy
from tests import factories as test_factories
from tests.credit.ledger_helpers import append
from tests.workflows.conftest import accept, file_application, make_item, new_draft, only_task
from workflows.actions import applications as actions

pytestmark = pytest.mark.django_db
Status = Application.Status

ITEM = "FT01"
POLICY_NAME = "守信企业食品经营许可容缺快办"
CONDITIONS = [{"type": "min_grade", "grade": "B"}, {"type": "no_serious_within_years", "years": 3}]


def fast_track_policy(
    code: str = "ft-test",
    *,
    item_codes: tuple[str, ...] = (ITEM,),
    reduction: int | None = 5,
    allow_missing: bool = True,
) -> Policy:
    """A fast-track policy (grade B or better, no serious entry within 3 years), version 1 published."""
    privileges: dict[str, object] = {"allow_missing_secondary": allow_missing}
    if reduction is not None:
        privileges["promised_days_reduction"] = reduction
    policy = policy_services.policy_create(
        actor=None,
        code=code,
        name=POLICY_NAME,
        name_en="Fast track for trustworthy food businesses",
        kind="fast_track",
        legal_basis="《沈阳市优化营商环境条例》",
        valid_from=timezone.localdate() - datetime.timedelta(days=365),
        conditions=CONDITIONS,
        benefits={"item_codes": list(item_codes), "privileges": privileges},
    )
    policy_services.policy_version_publish(actor=None, version=policy.versions.get(number=1))
    return policy


def decisions_of(application: Application) -> list[EligibilityDecision]:
    return list(
        policy_selectors.decisions_for_subject(source_type="application", source_id=f"application:{application.pk}")
    )


def secondary(version):  # type: ignore[no-untyped-def]
    return version.materials.get(may_be_missing=True)


# --- the privileges -----------------------------------------------------------------------------


def test_eligible_enterprise_gets_the_shorter_deadline_without_its_secondary_material(bureau, owner, enterprise):
    # Given a published fast-track policy covering the item (promised 10, reduction 5) and an
    # enterprise of grade B (no entries)
    policy = fast_track_policy()
    version = make_item(bureau, code=ITEM)
    # When it files without the 容缺 material (new_draft attaches only the main one) and is accepted
    application = file_application(owner, enterprise, version)
    # Then the granting decision is stored, on record for this application
    assert application.status == Status.SUBMITTED
    decision = application.fast_track_decision
    assert decision is not None and decision.eligible and decision.purpose == "fast_track"
    assert decision.policy_version.policy == policy and decision.context == {"item_code": ITEM}
    assert decisions_of(application) == [decision]
    assert not application.materials.filter(required_material=secondary(version)).exists()
    submitted = ApplicationEvent.objects.get(application=application, action="submitted")
    assert submitted.data == {"fast_track_decision": decision.pk, "fast_track_policy": policy.code}
    # and the window may accept without the 容缺 material: the deadline counts 10 − 5 working days
    accept(bureau, application)
    assert application.status == Status.IN_REVIEW
    assert application.deadline == add_working_days(application.accepted_on, 5)
    assert fast_track.privileges_of(application) == fast_track.Privileges(5, True)


def test_ineligible_enterprise_gets_no_privilege_and_its_refusal_is_on_record(bureau, owner, enterprise):
    # Given the policy and an enterprise of grade C (an administrative penalty)
    fast_track_policy()
    append(enterprise, "admin_penalty")
    version = make_item(bureau, code=ITEM)
    # When it files and is accepted
    application = file_application(owner, enterprise, version)
    accept(bureau, application)
    # Then nothing was granted, the full promised limit counts, and the refusal is recorded
    assert application.fast_track_decision is None
    assert application.deadline == add_working_days(application.accepted_on, version.promised_limit_days)
    [refusal] = decisions_of(application)
    assert not refusal.eligible and refusal.grade == "C" and refusal.purpose == "fast_track"
    assert [reason["code"] for reason in refusal.reasons] == ["grade_too_low"]
    assert ApplicationEvent.objects.get(application=application, action="submitted").data == {}
    # (容缺 still applies to every applicant while SECONDARY_MAY_BE_MISSING_FOR_EVERY_APPLICANT is
    # True: the catalogue's standard flow, unchanged by the fast track)
    assert fast_track.SECONDARY_MAY_BE_MISSING_FOR_EVERY_APPLICANT is True
    assert not application.materials.filter(required_material=secondary(version)).exists()


def test_policy_not_covering_the_item_changes_nothing(bureau, owner, enterprise):
    fast_track_policy(item_codes=("OTHER-ITEM",))
    version = make_item(bureau, code=ITEM)
    application = file_application(owner, enterprise, version)
    accept(bureau, application)
    assert application.fast_track_decision is None and decisions_of(application) == []
    assert application.deadline == add_working_days(application.accepted_on, version.promised_limit_days)


def test_the_reduction_never_leaves_less_than_one_working_day(bureau, owner, enterprise):
    fast_track_policy(reduction=5)
    version = make_item(bureau, code=ITEM, promised_limit_days=3)
    application = file_application(owner, enterprise, version)
    accept(bureau, application)
    assert fast_track.promised_days(application) == 1
    assert application.deadline == add_working_days(application.accepted_on, 1)


def test_a_privilege_without_reduction_keeps_the_promised_limit(bureau, owner, enterprise):
    fast_track_policy(reduction=None, allow_missing=True)
    version = make_item(bureau, code=ITEM)
    application = file_application(owner, enterprise, version)
    accept(bureau, application)
    assert application.fast_track_decision is not None
    assert application.deadline == add_working_days(application.accepted_on, version.promised_limit_days)


def test_a_later_policy_version_or_grade_does_not_change_an_old_deadline(bureau, owner, enterprise):
    # Given an application accepted under version 1 (reduction 5)
    policy = fast_track_policy(reduction=5)
    version = make_item(bureau, code=ITEM)
    old = file_application(owner, enterprise, version)
    accept(bureau, old)
    deadline = old.deadline
    # When version 2 (reduction 2) is published and the enterprise falls to grade C
    draft = policy_services.policy_version_draft_create(actor=None, policy=policy)
    policy_services.policy_version_draft_update(
        actor=None,
        version=draft,
        conditions=CONDITIONS,
        benefits={"item_codes": [ITEM], "privileges": {"promised_days_reduction": 2}},
        note="缩短天数调整",
    )
    policy_services.policy_version_publish(actor=None, version=draft)
    append(enterprise, "admin_penalty")
    # Then recomputing the old deadline gives the same day: it reads the stored decision
    fresh = Application.objects.get(pk=old.pk)
    services.application_clock_refresh(fresh)
    assert fresh.deadline == deadline == add_working_days(old.accepted_on, 5)
    # and an extension still counts from the shortened limit
    test_factories.extension_granted(requester=bureau.decider, application=fresh, days=2, reason="需要现场核查")
    fresh.refresh_from_db()
    assert fresh.deadline == add_working_days(old.accepted_on, 5 + 2)
    # while a new application of a peer of grade B is decided under version 2
    from tests import factories

    peer = factories.EnterpriseFactory()
    peer_owner = factories.MembershipFactory(enterprise=peer, confirmed=True).user
    new = file_application(peer_owner, peer, version)
    accept(bureau, new)
    assert new.fast_track_decision.policy_version.number == 2
    assert new.deadline == add_working_days(new.accepted_on, 10 - 2)


# --- 容缺 as a privilege only -------------------------------------------------------------------


@pytest.fixture
def secondary_is_a_privilege(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(fast_track, "SECONDARY_MAY_BE_MISSING_FOR_EVERY_APPLICANT", False)


def test_without_the_privilege_a_missing_secondary_material_blocks_submission(
    bureau, owner, enterprise, secondary_is_a_privilege
):
    # Given 容缺 granted by the fast track only, and an ineligible enterprise (grade C)
    fast_track_policy()
    append(enterprise, "admin_penalty")
    version = make_item(bureau, code=ITEM)
    draft = new_draft(owner, enterprise, version)
    # When it submits without the 容缺 material
    with pytest.raises(DomainError) as refused:
        actions.application_submit_and_start(actor=owner, application=draft)
    # Then the submission is refused, naming the material; nothing happened, so the fast-track
    # refusal recorded in the submitting transaction rolled back with it
    assert refused.value.code == "material_missing"
    assert refused.value.params["missing"] == [secondary(version).pk]
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.reference is None
    assert decisions_of(draft) == []


def test_with_the_privilege_the_secondary_material_may_be_missing(bureau, owner, enterprise, secondary_is_a_privilege):
    fast_track_policy()
    version = make_item(bureau, code=ITEM)
    application = file_application(owner, enterprise, version)
    assert application.status == Status.SUBMITTED and application.fast_track_decision is not None
    accept(bureau, application)
    assert application.status == Status.IN_REVIEW


def test_a_reduction_alone_does_not_excuse_the_secondary_material(bureau, owner, enterprise, secondary_is_a_privilege):
    fast_track_policy(reduction=3, allow_missing=False)
    version = make_item(bureau, code=ITEM)
    draft = new_draft(owner, enterprise, version)
    with pytest.raises(DomainError) as refused:
        actions.application_submit_and_start(actor=owner, application=draft)
    assert refused.value.code == "material_missing"


# --- what the pages show ------------------------------------------------------------------------


def test_the_application_pages_show_which_policy_granted_it(client, bureau, owner, enterprise):
    # Given a fast-tracked application waiting at the window, without its 容缺 material
    fast_track_policy()
    version = make_item(bureau, code=ITEM)
    application = file_application(owner, enterprise, version)
    decision = application.fast_track_decision
    # When the applicant opens it in the portal (in English)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(owner)
    page = client.get(reverse("portal:application", args=[application.pk]))
    # Then it names the policy, the decision and the privileges
    assert page.status_code == 200
    text = page.content.decode()
    assert "Fast track" in text and "Fast track for trustworthy food businesses" in text
    assert f"eligibility decision no. {decision.pk}" in text
    assert "Promised limit shortened by 5 working days" in text
    # and the window's accept step shows the 容缺 material as missing, to be supplied later
    task = only_task(application, "accept")
    client.force_login(bureau.desk_user)
    task_page = client.get(reverse("workbench:task", args=[task.pk])).content.decode()
    assert "Missing, to be supplied later: 场所平面图" in task_page
    # and the staff page too (in Chinese, the policy's Chinese name)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert POLICY_NAME in client.get(reverse("workbench:application", args=[application.pk])).content.decode()


def test_the_fast_track_block_costs_a_fixed_few_queries(client, bureau, owner, enterprise, peer, peer_enterprise):
    # One query for the decision with its policy, two for the 容缺 materials still missing.
    fast_track_policy()
    version = make_item(bureau, code=ITEM)
    granted = file_application(owner, enterprise, version)
    append(peer_enterprise, "admin_penalty")
    plain = file_application(peer, peer_enterprise, version)
    assert granted.fast_track_decision is not None and plain.fast_track_decision is None

    def count(user, application) -> int:  # type: ignore[no-untyped-def]
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("portal:application", args=[application.pk])).status_code == 200
        return len(queries)

    assert 0 < count(owner, granted) - count(peer, plain) <= 3


def test_no_fast_track_block_without_a_decision(client, bureau, owner, enterprise):
    version = make_item(bureau, code=ITEM)
    application = file_application(owner, enterprise, version)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(owner)
    page = client.get(reverse("portal:application", args=[application.pk]))
    assert page.context["fast_track"] is None and "Fast track" not in page.content.decode()
