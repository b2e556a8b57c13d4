"""Random-inspection campaigns (双随机一公开): freeze, seed, draw, tasks, verify, export, pages."""

from __future__ import annotations

import contextlib
import datetime
import json
import random
from dataclasses import dataclass, field
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals.applications import services as application_services
from approvals.models import (
    ApprovalItemVersion,
    Campaign,
    CampaignInspector,
    CampaignRecusal,
    CampaignTarget,
    Certificate,
    InspectionTask,
    InspectorConflict,
)
from approvals.organisation.roles import StaffRole
from approvals.supervision import campaigns as services
from approvals.supervision import draw
from approvals.supervision import selectors as supervision_selectors
from approvals.supervision import services as supervision
from core.models import AuditEvent, User
from tests import factories
from tests.credit.ledger_helpers import append
from tests.workflows.conftest import make_item, new_draft

pytestmark = pytest.mark.django_db

SEED = "双色球 2026088 03 09 14 22 27 31 + 12"


@pytest.fixture(autouse=True)
def anchor_file(tmp_path, settings):
    """Credit entries appended here never touch the repository's checkpoint file."""
    settings.CREDIT_LEDGER_ANCHOR_FILE = tmp_path / "anchors.jsonl"


@dataclass
class Setting:
    """A department with four inspectors, its decision maker, and items with certificate holders."""

    bureau: object
    version: ApprovalItemVersion
    other_version: ApprovalItemVersion
    inspectors: list[User]
    organiser: User
    holders: dict[str, object] = field(default_factory=dict)  # grade → enterprise


def certify(enterprise, version, *, valid_until=None, revoked=False) -> Certificate:  # type: ignore[no-untyped-def]
    """A certificate of ``version`` for ``enterprise`` (a draft application stands in for the case)."""
    owner = enterprise.memberships.filter(status="confirmed").first()
    user = owner.user if owner else factories.MembershipFactory(enterprise=enterprise, confirmed=True).user
    application = new_draft(user, enterprise, version, with_material=False)
    with transaction.atomic():  # issued inside the deciding transaction, as the flow does
        certificate = application_services.certificate_issue(application=application)
    if valid_until is not None:
        Certificate.objects.filter(pk=certificate.pk).update(valid_until=valid_until)
    if revoked:
        application_services.certificate_revoke(actor=None, certificate=certificate, reason="测试撤销")
    return certificate


def graded_enterprise(grade: str):  # type: ignore[no-untyped-def]
    enterprise = factories.EnterpriseFactory()
    if grade == "A":
        append(enterprise, "tax_grade_a")
    elif grade == "C":
        append(enterprise, "admin_penalty")
    elif grade == "D":
        append(enterprise, "false_commitment")
    return enterprise


@pytest.fixture
def setting(bureau) -> Setting:  # type: ignore[no-untyped-def]
    version = make_item(bureau, co_review=0)
    other_version = make_item(bureau, co_review=0)
    inspectors = [
        factories.staff_with_role(StaffRole.INSPECTOR, department=bureau.lead, username=f"insp_{letter}")
        for letter in "abcd"
    ]
    # An inspector of another department is never on this roster.
    factories.staff_with_role(StaffRole.INSPECTOR, department=bureau.co[0], username="insp_other")
    result = Setting(
        bureau=bureau, version=version, other_version=other_version, inspectors=inspectors, organiser=bureau.decider
    )
    for grade in "ABCD":
        enterprise = graded_enterprise(grade)
        certify(enterprise, version)
        result.holders[grade] = enterprise
    return result


def new_campaign(setting: Setting, *, code: str = "SJ-2026-01", ratios=None, items=None) -> Campaign:  # type: ignore[no-untyped-def]
    return services.campaign_create(
        actor=setting.organiser,
        code=code,
        name="2026年度双随机抽查",
        department=setting.bureau.lead,
        items=items or [setting.version.item],
        ratios=ratios,
        inspection_due_on=timezone.localdate() + datetime.timedelta(days=30),
    )


def drawn_campaign(setting: Setting, **kwargs) -> Campaign:  # type: ignore[no-untyped-def]
    campaign = new_campaign(setting, **kwargs)
    services.campaign_freeze(actor=setting.organiser, campaign=campaign)
    return services.campaign_draw(actor=setting.organiser, campaign=campaign, seed=SEED, seed_source="福彩公告")


def errors_of(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(services.CampaignError) as caught:
        call()
    return caught.value.code


# --- freeze -----------------------------------------------------------------------------------------


def test_freeze_builds_one_target_per_uscc_with_its_grade(setting):
    # Given: the grade-B holder holds a second certificate of the item and one of another item;
    # an expired, a revoked and another item's certificate give no target.
    b = setting.holders["B"]
    certify(b, setting.version)
    certify(b, setting.other_version)
    certify(factories.EnterpriseFactory(), setting.version, valid_until=timezone.localdate() - datetime.timedelta(1))
    certify(factories.EnterpriseFactory(), setting.version, revoked=True)
    certify(factories.EnterpriseFactory(), setting.other_version)
    still_valid_today = factories.EnterpriseFactory()
    certify(still_valid_today, setting.version, valid_until=timezone.localdate())
    campaign = new_campaign(setting)

    # When
    services.campaign_freeze(actor=setting.organiser, campaign=campaign)

    # Then
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.FROZEN
    rows = {t.uscc: (t.grade, t.enterprise_id, t.name) for t in CampaignTarget.objects.filter(campaign=campaign)}
    expected = {e.uscc: (grade, e.pk, e.name) for grade, e in setting.holders.items()}
    expected[still_valid_today.uscc] = ("B", still_valid_today.pk, still_valid_today.name)
    assert rows == expected
    assert list(CampaignInspector.objects.filter(campaign=campaign).values_list("username", flat=True)) == [
        "insp_a",
        "insp_b",
        "insp_c",
        "insp_d",
    ]
    targets = [draw.Target(uscc, grade) for uscc, (grade, _pk, _name) in expected.items()]
    assert campaign.targets_sha256 == draw.roster_hash(draw.targets_canonical(targets))
    assert campaign.inspectors_sha256 == draw.roster_hash(
        draw.inspectors_canonical(["insp_a", "insp_b", "insp_c", "insp_d"])
    )
    assert campaign.ratios == draw.DEFAULT_RATIOS
    assert campaign.frozen_by == setting.organiser and campaign.frozen_at is not None
    event = AuditEvent.objects.get(action="campaign.frozen", object_id=str(campaign.pk))
    assert event.actor == setting.organiser
    assert event.data["targets_sha256"] == campaign.targets_sha256
    assert event.data["ratios"] == draw.DEFAULT_RATIOS


def test_freeze_adds_automatic_recusals_and_keeps_hand_entered_ones(setting):
    c = setting.holders["C"]
    d = setting.holders["D"]
    InspectorConflict.objects.create(
        inspector=setting.inspectors[0], enterprise=c, reason="亲属任职", recorded_by=setting.organiser
    )
    # A conflict of someone off the inspector roster has no effect and is not frozen.
    InspectorConflict.objects.create(
        inspector=setting.bureau.desk_user, enterprise=c, reason="曾任顾问", recorded_by=setting.organiser
    )
    campaign = new_campaign(setting)
    services.campaign_recusal_add(
        actor=setting.organiser, campaign=campaign, uscc=d.uscc, username="insp_b", reason="曾为该企业提供咨询"
    )
    # A hand-entered recusal for an enterprise that is no target cannot matter and is dropped.
    stranger = factories.EnterpriseFactory()
    services.campaign_recusal_add(
        actor=setting.organiser, campaign=campaign, uscc=stranger.uscc, username="insp_c", reason="无关"
    )

    services.campaign_freeze(actor=setting.organiser, campaign=campaign)

    recusals = set(CampaignRecusal.objects.filter(campaign=campaign).values_list("uscc", "username", "reason"))
    assert recusals == {(c.uscc, "insp_a", "conflict:亲属任职"), (d.uscc, "insp_b", "曾为该企业提供咨询")}
    event = AuditEvent.objects.get(action="campaign.frozen", object_id=str(campaign.pk))
    assert event.data["recusals_dropped"] == [f"{stranger.uscc},insp_c"]


def test_freeze_refuses_an_empty_target_roster_or_fewer_than_two_inspectors(setting):
    empty = new_campaign(setting, code="EMPTY", items=[make_item(setting.bureau, co_review=0).item])
    assert errors_of(lambda: services.campaign_freeze(actor=setting.organiser, campaign=empty)) == "targets_empty"
    lone = factories.department("单人检查处")
    factories.staff_with_role(StaffRole.INSPECTOR, department=lone)
    organiser = factories.staff_with_role(StaffRole.DECIDER, department=lone)
    campaign = services.campaign_create(
        actor=organiser,
        code="LONE",
        name="单人",
        department=lone,
        items=[setting.version.item],
        ratios=None,
        inspection_due_on=timezone.localdate(),
    )
    assert errors_of(lambda: services.campaign_freeze(actor=organiser, campaign=campaign)) == "too_few_inspectors"
    for c in (empty, campaign):
        c.refresh_from_db()
        assert c.status == Campaign.Status.DRAFT
        assert not CampaignTarget.objects.filter(campaign=c).exists()


def test_hashes_are_stored_before_the_seed_and_kept_by_the_draw(setting):
    campaign = new_campaign(setting)
    services.campaign_freeze(actor=setting.organiser, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.seed == "" and campaign.drawn_at is None
    hashes = (campaign.targets_sha256, campaign.inspectors_sha256)
    assert all(len(h) == 64 for h in hashes)
    services.campaign_draw(actor=setting.organiser, campaign=campaign, seed=SEED, seed_source="福彩公告")
    campaign.refresh_from_db()
    assert (campaign.targets_sha256, campaign.inspectors_sha256) == hashes
    frozen = AuditEvent.objects.get(action="campaign.frozen", object_id=str(campaign.pk))
    seeded = AuditEvent.objects.get(action="campaign.seed_entered", object_id=str(campaign.pk))
    assert frozen.created_at <= seeded.created_at and frozen.pk < seeded.pk


def test_seed_before_the_freeze_is_refused(setting):
    campaign = new_campaign(setting)
    code = errors_of(
        lambda: services.campaign_draw(actor=setting.organiser, campaign=campaign, seed=SEED, seed_source="x")
    )
    assert code == "campaign_not_frozen"
    campaign.refresh_from_db()
    assert campaign.seed == "" and campaign.status == Campaign.Status.DRAFT
    assert not InspectionTask.objects.filter(campaign=campaign).exists()


def test_nothing_changes_after_the_freeze(setting):
    campaign = new_campaign(setting)
    services.campaign_recusal_add(
        actor=setting.organiser,
        campaign=campaign,
        uscc=setting.holders["A"].uscc,
        username="insp_a",
        reason="回避",
    )
    services.campaign_freeze(actor=setting.organiser, campaign=campaign)
    organiser = setting.organiser

    # The services refuse…
    assert (
        errors_of(lambda: services.campaign_ratios_set(actor=organiser, campaign=campaign, ratios=draw.DEFAULT_RATIOS))
        == "campaign_not_draft"
    )
    assert (
        errors_of(
            lambda: services.campaign_recusal_add(
                actor=organiser, campaign=campaign, uscc=setting.holders["B"].uscc, username="insp_b", reason="x"
            )
        )
        == "campaign_not_draft"
    )
    recusal = CampaignRecusal.objects.get(campaign=campaign)
    assert (
        errors_of(lambda: services.campaign_recusal_remove(actor=organiser, campaign=campaign, recusal_id=recusal.pk))
        == "campaign_not_draft"
    )
    assert errors_of(lambda: services.campaign_freeze(actor=organiser, campaign=campaign)) == "campaign_not_draft"

    # …and so do the rows themselves.
    target = CampaignTarget.objects.get(campaign=campaign, uscc=setting.holders["B"].uscc)
    target.grade = "A"
    with pytest.raises(ValueError):
        target.save()
    with pytest.raises(ValueError):
        CampaignRecusal(campaign=campaign, uscc=target.uscc, username="insp_c", reason="x").save()
    with pytest.raises(ValueError):
        recusal.delete()
    with pytest.raises(ValueError):
        CampaignInspector.objects.filter(campaign=campaign).first().delete()
    with pytest.raises(ValueError):
        CampaignInspector(campaign=campaign, user=setting.bureau.desk_user, username="desk").save()
    assert CampaignTarget.objects.get(pk=target.pk).grade == "B"
    assert CampaignRecusal.objects.filter(campaign=campaign).count() == 1


# --- parameters and permissions ---------------------------------------------------------------------


def test_create_and_ratio_errors_have_stable_codes(setting):
    organiser = setting.organiser

    def create(**overrides):  # type: ignore[no-untyped-def]
        values = {
            "actor": organiser,
            "code": "OK-1",
            "name": "名称",
            "department": setting.bureau.lead,
            "items": [setting.version.item],
            "ratios": None,
            "inspection_due_on": timezone.localdate(),
        }
        values.update(overrides)
        return lambda: services.campaign_create(**values)

    assert errors_of(create(code="has space")) == "code_invalid"
    assert errors_of(create(code="a:b")) == "code_invalid"
    assert errors_of(create(name=" ")) == "name_required"
    assert errors_of(create(items=[])) == "items_required"
    assert errors_of(create(inspection_due_on=timezone.localdate() - datetime.timedelta(1))) == "due_date_invalid"
    assert errors_of(create(ratios={"A": "2%", "B": "0.05", "C": "1", "D": "1"})) == "ratio_invalid"
    assert errors_of(create(ratios={"A": "1.5", "B": "0.05", "C": "1", "D": "1"})) == "ratio_invalid"
    assert errors_of(create(ratios={"A": "0.02"})) == "ratio_missing"
    assert errors_of(create(ratios={**draw.DEFAULT_RATIOS, "E": "1"})) == "grade_unknown"
    reviewer = setting.bureau.reviewers[setting.bureau.co[0].pk]
    assert errors_of(create(actor=reviewer)) == "permission_denied"
    inspector = setting.inspectors[0]
    assert errors_of(create(actor=inspector)) == "permission_denied"
    campaign = create()()
    assert errors_of(create()) == "code_taken"
    assert errors_of(create(code="ok-1")) == "code_taken"
    services.campaign_ratios_set(
        actor=organiser, campaign=campaign, ratios={"A": "0.1", "B": "0.2", "C": "0.5", "D": "1"}
    )
    campaign.refresh_from_db()
    assert campaign.ratios == {"A": "0.1", "B": "0.2", "C": "0.5", "D": "1"}
    assert (
        errors_of(lambda: services.campaign_ratios_set(actor=reviewer, campaign=campaign, ratios=draw.DEFAULT_RATIOS))
        == "permission_denied"
    )
    assert AuditEvent.objects.filter(action="campaign.ratios_set", object_id=str(campaign.pk)).count() == 1


def test_an_administrator_may_organise_any_department(setting, administrator):
    campaign = services.campaign_create(
        actor=administrator,
        code="ADM-1",
        name="管理员组织",
        department=setting.bureau.lead,
        items=[setting.version.item],
        ratios=None,
        inspection_due_on=timezone.localdate(),
    )
    services.campaign_freeze(actor=administrator, campaign=campaign)
    other_decider = factories.staff_with_role(StaffRole.DECIDER, department=setting.bureau.co[1])
    code = errors_of(lambda: services.campaign_draw(actor=other_decider, campaign=campaign, seed=SEED, seed_source="x"))
    assert code == "permission_denied"


# --- the draw ---------------------------------------------------------------------------------------


def test_draw_creates_the_tasks_draw_gives_on_the_stored_inputs(setting):
    # All grades drawn in full so every target becomes a task.
    ratios = {"A": "1", "B": "1", "C": "1", "D": "1"}
    campaign = new_campaign(setting, ratios=ratios)
    services.campaign_freeze(actor=setting.organiser, campaign=campaign)

    services.campaign_draw(
        actor=setting.organiser, campaign=campaign, seed=f"  {SEED}\u3000\n", seed_source=" 中国福利彩票开奖公告 "
    )

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAWN
    assert campaign.seed == SEED  # exactly as entered, stripped of surrounding white space
    assert campaign.seed_source == "中国福利彩票开奖公告"
    assert campaign.seed_entered_by == setting.organiser and campaign.drawn_at is not None
    expected = draw.draw(
        seed=SEED,
        campaign_code=campaign.code,
        targets=[draw.Target(t.uscc, t.grade) for t in CampaignTarget.objects.filter(campaign=campaign)],
        inspectors=[i.username for i in CampaignInspector.objects.filter(campaign=campaign)],
        recusals=list(CampaignRecusal.objects.filter(campaign=campaign).values_list("uscc", "username")),
        ratios=ratios,
    )
    tasks = list(
        InspectionTask.objects.filter(campaign=campaign)
        .select_related("enterprise", "inspector_1", "inspector_2")
        .order_by("draw_position")
    )
    assert [(t.draw_position, t.enterprise.uscc, (t.inspector_1.username, t.inspector_2.username)) for t in tasks] == [
        (position, entry.uscc, entry.inspectors) for position, entry in enumerate(expected.sample, start=1)
    ]
    assert len(tasks) == 4
    for task in tasks:
        assert task.kind == InspectionTask.Kind.RANDOM
        assert task.due_on == campaign.inspection_due_on
        assert task.department_id == campaign.department_id
        assert task.status == InspectionTask.Status.OPEN
    drawn = AuditEvent.objects.get(action="campaign.drawn", object_id=str(campaign.pk))
    assert drawn.data["seed"] == SEED and drawn.actor == setting.organiser
    assert drawn.data["sample"] == [entry.uscc for entry in expected.sample]
    assert AuditEvent.objects.filter(action="campaign.seed_entered", object_id=str(campaign.pk)).count() == 1
    # A second draw is refused.
    code = errors_of(
        lambda: services.campaign_draw(actor=setting.organiser, campaign=campaign, seed="other", seed_source="x")
    )
    assert code == "campaign_already_drawn"


def test_default_ratios_sample_by_grade(setting):
    # Ten more grade-B holders: 5 % of 11 rounds up to 1; A 2 % of 1 is 1; C and D in full.
    for _ in range(10):
        certify(factories.EnterpriseFactory(), setting.version)
    campaign = drawn_campaign(setting)
    grades = dict(CampaignTarget.objects.filter(campaign=campaign).values_list("uscc", "grade"))
    drawn = [
        grades[u] for u in InspectionTask.objects.filter(campaign=campaign).values_list("enterprise__uscc", flat=True)
    ]
    assert sorted(drawn) == ["A", "B", "C", "D"]


def test_same_inputs_give_the_same_sample(setting):
    campaign = drawn_campaign(setting, ratios={"A": "1", "B": "1", "C": "0.5", "D": "1"})
    inputs = supervision_selectors.stored_inputs(campaign)
    first = draw.draw(
        seed=SEED,
        campaign_code=campaign.code,
        targets=inputs.targets,
        inspectors=inputs.inspectors,
        recusals=inputs.recusals,
        ratios=inputs.ratios,
    )
    shuffled = random.Random(7)  # noqa: S311  (a fixed shuffle, not a secret)
    targets, inspectors = list(inputs.targets), list(inputs.inspectors)
    shuffled.shuffle(targets)
    shuffled.shuffle(inspectors)
    second = draw.draw(
        seed=f" {SEED} ",
        campaign_code=campaign.code,
        targets=targets,
        inspectors=inspectors,
        recusals=list(reversed(inputs.recusals)),
        ratios=dict(reversed(list(inputs.ratios.items()))),
    )
    assert first.sample == second.sample
    stored = list(
        InspectionTask.objects.filter(campaign=campaign)
        .order_by("draw_position")
        .values_list("enterprise__uscc", "inspector_1__username", "inspector_2__username")
    )
    assert stored == [(e.uscc, *e.inspectors) for e in first.sample]


def test_too_few_eligible_inspectors_refuses_the_whole_draw_naming_the_target(setting):
    # Given: three of the four inspectors must not inspect the grade-D holder (always drawn).
    d = setting.holders["D"]
    for inspector in setting.inspectors[:2]:
        InspectorConflict.objects.create(
            inspector=inspector, enterprise=d, reason="关联", recorded_by=setting.organiser
        )
    campaign = new_campaign(setting, ratios={"A": "1", "B": "1", "C": "1", "D": "1"})
    services.campaign_recusal_add(
        actor=setting.organiser, campaign=campaign, uscc=d.uscc, username="insp_c", reason="x"
    )
    services.campaign_freeze(actor=setting.organiser, campaign=campaign)
    events_before = AuditEvent.objects.count()

    # When
    with pytest.raises(services.CampaignError) as caught:
        services.campaign_draw(actor=setting.organiser, campaign=campaign, seed=SEED, seed_source="福彩公告")

    # Then: refused as a whole, naming the target; nothing written.
    assert caught.value.code == "too_few_inspectors"
    assert caught.value.params["uscc"] == d.uscc
    assert d.uscc in str(caught.value.message)
    campaign.refresh_from_db()
    assert campaign.drawn_at is None
    assert not InspectionTask.objects.filter(campaign=campaign).exists()
    # The campaign ends with the refused seed on record: no second seed on the same rosters.
    assert campaign.status == Campaign.Status.REFUSED and campaign.seed == SEED
    with pytest.raises(services.CampaignError) as again:
        services.campaign_draw(actor=setting.organiser, campaign=campaign, seed="另一个种子", seed_source="x")
    assert again.value.code == "campaign_draw_refused"
    campaign.refresh_from_db()
    assert campaign.seed == SEED
    # Only the attempt itself is on record (and public): a refused seed cannot be quietly replaced.
    assert AuditEvent.objects.filter(pk__gt=0).count() == events_before + 1
    refused = AuditEvent.objects.get(action="campaign.draw_refused", object_id=str(campaign.pk))
    assert refused.data["seed"] == SEED and refused.data["code"] == "too_few_inspectors"
    assert [a["seed"] for a in supervision_selectors.campaign_refused_draws(campaign=campaign)] == [SEED]


def test_seed_errors(setting):
    campaign = new_campaign(setting)
    services.campaign_freeze(actor=setting.organiser, campaign=campaign)
    organiser = setting.organiser
    assert (
        errors_of(lambda: services.campaign_draw(actor=organiser, campaign=campaign, seed=" \u3000 ", seed_source="x"))
        == "seed_empty"
    )
    assert (
        errors_of(lambda: services.campaign_draw(actor=organiser, campaign=campaign, seed=SEED, seed_source=" "))
        == "seed_source_required"
    )
    assert (
        errors_of(lambda: services.campaign_draw(actor=organiser, campaign=campaign, seed="9" * 201, seed_source="x"))
        == "seed_too_long"
    )


# --- verify and export ------------------------------------------------------------------------------


def verify_exit(code: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("draw_verify", code, stdout=out, stderr=StringIO())
    except CommandError as error:
        return error.returncode, out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def verified(setting) -> Campaign:  # type: ignore[no-untyped-def]
    InspectorConflict.objects.create(
        inspector=setting.inspectors[0], enterprise=setting.holders["C"], reason="亲属", recorded_by=setting.organiser
    )
    campaign = drawn_campaign(setting, ratios={"A": "1", "B": "1", "C": "1", "D": "1"})
    assert CampaignRecusal.objects.filter(campaign=campaign).exists()
    return campaign


def test_draw_verify_passes_when_intact(verified):
    status, output = verify_exit(verified.code)
    assert status == 0, output
    assert "OK" in output
    assert supervision_selectors.campaign_verify(campaign=verified) == []


@contextlib.contextmanager
def roster_triggers_off():  # type: ignore[no-untyped-def]
    from core import append_only

    append_only.triggers_drop(connection, app_label="approvals")
    try:
        yield
    finally:
        append_only.triggers_create(connection, app_label="approvals")


def test_the_database_refuses_changes_to_frozen_rosters(verified):
    from django.db import DatabaseError

    target = CampaignTarget.objects.filter(campaign=verified).first()
    for change in (
        lambda: CampaignTarget.objects.filter(pk=target.pk).update(grade="D"),
        lambda: CampaignTarget.objects.filter(pk=target.pk).delete(),
        lambda: CampaignRecusal.objects.bulk_create(
            [CampaignRecusal(campaign=verified, uscc=target.uscc, username="insp_a", reason="x")]
        ),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            change()
    assert CampaignTarget.objects.get(pk=target.pk).grade == target.grade


def _alter_grade(campaign: Campaign) -> None:
    target = CampaignTarget.objects.filter(campaign=campaign, grade="B").get()
    CampaignTarget.objects.filter(pk=target.pk).update(grade="A")


def _alter_recusal(campaign: Campaign) -> None:
    recusal = CampaignRecusal.objects.filter(campaign=campaign).first()
    CampaignRecusal.objects.filter(pk=recusal.pk).update(username="insp_d")


def _add_recusal(campaign: Campaign) -> None:
    target = CampaignTarget.objects.filter(campaign=campaign, grade="A").get()
    CampaignRecusal.objects.bulk_create(
        [CampaignRecusal(campaign=campaign, uscc=target.uscc, username="insp_a", reason="x")]
    )


def _alter_seed(campaign: Campaign) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(seed=campaign.seed + "0")


def _alter_inspector(campaign: Campaign) -> None:
    task = InspectionTask.objects.filter(campaign=campaign).order_by("draw_position").first()
    pair = {task.inspector_1_id, task.inspector_2_id}
    spare = CampaignInspector.objects.filter(campaign=campaign).exclude(user_id__in=pair).first()
    InspectionTask.objects.filter(pk=task.pk).update(inspector_2_id=spare.user_id)


def _alter_hash(campaign: Campaign) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(targets_sha256="0" * 64)


def _alter_inspector_hash(campaign: Campaign) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(inspectors_sha256="f" * 64)


def _alter_ratios(campaign: Campaign) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(ratios={"A": "1", "B": "1", "C": "1", "D": "0.5"})


def _drop_task(campaign: Campaign) -> None:
    InspectionTask.objects.filter(campaign=campaign).order_by("-draw_position").first().delete()


def _swap_positions(campaign: Campaign) -> None:
    first, second = InspectionTask.objects.filter(campaign=campaign).order_by("draw_position")[:2]
    InspectionTask.objects.filter(pk=first.pk).update(draw_position=99)
    InspectionTask.objects.filter(pk=second.pk).update(draw_position=first.draw_position)
    InspectionTask.objects.filter(pk=first.pk).update(draw_position=second.draw_position)


def _alter_roster_username(campaign: Campaign) -> None:
    row = CampaignInspector.objects.filter(campaign=campaign).order_by("username").last()
    CampaignInspector.objects.filter(pk=row.pk).update(username="insp_z")


@pytest.mark.parametrize(
    "alter",
    [
        _alter_grade,
        _alter_recusal,
        _add_recusal,
        _alter_seed,
        _alter_inspector,
        _alter_hash,
        _alter_inspector_hash,
        _alter_ratios,
        _drop_task,
        _swap_positions,
        _alter_roster_username,
    ],
)
def test_draw_verify_fails_when_any_stored_input_is_altered(verified, alter):
    # Someone with the owner's powers (the triggers dropped) rewrites a stored input.
    with roster_triggers_off():
        alter(verified)
    status, output = verify_exit(verified.code)
    assert status == 1
    assert "PROBLEM:" in output


def test_draw_verify_unknown_or_undrawn_campaign(setting):
    assert verify_exit("NOPE")[0] == 2
    campaign = new_campaign(setting)
    assert verify_exit(campaign.code)[0] == 1


def test_draw_export_prints_exactly_the_export_document(verified):
    out = StringIO()
    call_command("draw_export", verified.code, stdout=out, stderr=StringIO())
    text = out.getvalue()
    document = supervision_selectors.campaign_export(campaign=verified)
    assert text == draw.export_dumps(document)
    loaded = json.loads(text)
    assert list(loaded) == list(draw.EXPORT_KEYS)
    assert loaded["campaign"] == verified.code and loaded["seed"] == SEED
    assert loaded["ratios"] == {"A": "1", "B": "1", "C": "1", "D": "1"}
    assert loaded["roster_hashes"] == {"targets": verified.targets_sha256, "inspectors": verified.inspectors_sha256}
    assert [t["uscc"] for t in loaded["targets"]] == sorted(
        CampaignTarget.objects.filter(campaign=verified).values_list("uscc", flat=True)
    )
    assert loaded["inspectors"] == ["insp_a", "insp_b", "insp_c", "insp_d"]
    assert loaded["recusals"] == [{"uscc": verified.targets.get(grade="C").uscc, "inspector": "insp_a"}]
    tasks = InspectionTask.objects.filter(campaign=verified).order_by("draw_position")
    assert loaded["sample"] == [
        {"uscc": t.enterprise.uscc, "inspectors": [t.inspector_1.username, t.inspector_2.username]} for t in tasks
    ]
    assert draw.export_check(loaded) == []


def test_draw_export_refuses_an_undrawn_campaign(setting):
    campaign = new_campaign(setting)
    with pytest.raises(CommandError):
        call_command("draw_export", campaign.code, stdout=StringIO(), stderr=StringIO())


# --- pages ------------------------------------------------------------------------------------------


def record(task: InspectionTask, result: str, **kwargs) -> None:  # type: ignore[no-untyped-def]
    answers = dict.fromkeys(supervision_selectors.checklist_of(task), "ok")
    supervision.inspection_record(
        actor=task.inspector_1,
        task=task,
        inspected_on=timezone.localdate(),
        checklist=answers,
        findings=kwargs.pop("findings", "现场检查情况"),
        result=result,
        **kwargs,
    )


def test_public_page_shows_hashes_seed_sample_and_results_and_nothing_private(client, verified):
    tasks = list(
        InspectionTask.objects.filter(campaign=verified).select_related("enterprise").order_by("draw_position")
    )
    record(tasks[0], "pass", findings="秘密的检查发现")
    record(
        tasks[1],
        "rectify",
        findings="另一条检查发现",
        rectification_requirements="整改要求",
        rectification_deadline=timezone.localdate() + datetime.timedelta(days=10),
    )

    response = client.get(reverse("inspections_public:detail", args=[verified.code]))

    assert response.status_code == 200
    body = response.content.decode()
    assert verified.targets_sha256 in body and verified.inspectors_sha256 in body
    assert SEED in body and "福彩公告" in body
    for task in tasks:
        assert task.enterprise.uscc in body and task.enterprise.name in body
    assert str(InspectionTask.Outcome.PASSED.label) in body
    assert str(InspectionTask.Status.RECTIFYING.label) in body
    assert str(InspectionTask.Status.OPEN.label) in body
    for inspector in User.objects.filter(username__startswith="insp_"):
        assert inspector.username not in body
        assert inspector.display_name not in body
    assert "秘密的检查发现" not in body and "整改要求" not in body
    for grade_word in ("Grade at freeze",):
        assert grade_word not in body
    listing = client.get(reverse("inspections_public:list")).content.decode()
    assert verified.code in listing


def test_public_pages_hide_drafts_and_show_frozen_campaigns_before_the_seed(client, setting):
    draft = new_campaign(setting, code="DRAFT-1")
    frozen = new_campaign(setting, code="FROZEN-1")
    services.campaign_freeze(actor=setting.organiser, campaign=frozen)
    frozen.refresh_from_db()
    assert client.get(reverse("inspections_public:detail", args=[draft.code])).status_code == 404
    page = client.get(reverse("inspections_public:detail", args=[frozen.code]))
    assert page.status_code == 200 and frozen.targets_sha256 in page.content.decode()
    listing = client.get(reverse("inspections_public:list")).content.decode()
    assert "FROZEN-1" in listing and "DRAFT-1" not in listing


def test_auditor_downloads_the_export_and_the_read_is_logged(client, verified, auditor):
    client.force_login(auditor)
    response = client.get(reverse("audit_campaigns:export", args=[verified.code]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.decode() == draw.export_dumps(supervision_selectors.campaign_export(campaign=verified))
    logged = AuditEvent.objects.filter(
        action="auditor.read", actor=auditor, object_type="approvals.campaign", object_id=str(verified.pk)
    )
    assert logged.count() == 1
    listing = client.get(reverse("audit_campaigns:list"))
    assert listing.status_code == 200 and verified.code in listing.content.decode()
    assert AuditEvent.objects.filter(action="auditor.read", actor=auditor, object_id="*").exists()
    check = client.get(reverse("audit_campaigns:verify", args=[verified.code]))
    assert check.status_code == 200 and check.context["problems"] == []


def test_others_get_404_on_the_audit_and_staff_pages(client, verified, owner, setting):
    reviewer = setting.bureau.reviewers[setting.bureau.co[0].pk]
    foreign_decider = factories.staff_with_role(StaffRole.DECIDER, department=setting.bureau.co[1])
    urls = [
        reverse("audit_campaigns:export", args=[verified.code]),
        reverse("audit_campaigns:list"),
        reverse("audit_campaigns:verify", args=[verified.code]),
    ]
    for user in (owner, reviewer, setting.inspectors[0], setting.organiser):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
    assert not AuditEvent.objects.filter(action="auditor.read").exists()
    staff_urls = [reverse("campaigns:list"), reverse("campaigns:detail", args=[verified.code])]
    for user in (owner, reviewer, setting.inspectors[0]):
        client.force_login(user)
        for url in staff_urls:
            assert client.get(url).status_code == 404, (user, url)
    client.force_login(foreign_decider)
    assert client.get(reverse("campaigns:list")).status_code == 200
    assert client.get(reverse("campaigns:detail", args=[verified.code])).status_code == 404
    assert client.post(reverse("campaigns:freeze", args=[verified.code])).status_code == 404


def test_organiser_creates_freezes_and_draws_through_the_pages(client, setting):
    client.force_login(setting.organiser)
    due = (timezone.localdate() + datetime.timedelta(days=20)).isoformat()
    response = client.post(
        reverse("campaigns:create"),
        {
            "code": "WEB-1",
            "name": "网页创建",
            "department": setting.bureau.lead.pk,
            "items": [setting.version.item.pk],
            "inspection_due_on": due,
            "ratio_A": "1",
            "ratio_B": "1",
            "ratio_C": "1",
            "ratio_D": "1",
        },
    )
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    campaign = Campaign.objects.get(code="WEB-1")
    assert client.get(reverse("campaigns:detail", args=["WEB-1"])).status_code == 200
    # The seed form refuses before the freeze.
    assert client.get(reverse("campaigns:draw", args=["WEB-1"])).status_code == 302
    assert client.post(reverse("campaigns:freeze", args=["WEB-1"])).status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.FROZEN
    assert client.get(reverse("campaigns:detail", args=["WEB-1"])).status_code == 200
    assert client.get(reverse("campaigns:draw", args=["WEB-1"])).status_code == 200
    refused = client.post(reverse("campaigns:draw", args=["WEB-1"]), {"seed": SEED, "seed_source": "公告"})
    assert refused.status_code == 200  # confirmation missing
    response = client.post(
        reverse("campaigns:draw", args=["WEB-1"]), {"seed": SEED, "seed_source": "公告", "confirmed": "on"}
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAWN and campaign.seed == SEED
    detail = client.get(reverse("campaigns:detail", args=["WEB-1"]))
    assert detail.status_code == 200
    assert InspectionTask.objects.filter(campaign=campaign).count() == 4
    listing = client.get(reverse("campaigns:list"))
    assert "WEB-1" in listing.content.decode()


def test_draw_page_names_the_target_short_of_inspectors(client, setting):
    d = setting.holders["D"]
    for inspector in setting.inspectors[:3]:
        InspectorConflict.objects.create(
            inspector=inspector, enterprise=d, reason="关联", recorded_by=setting.organiser
        )
    campaign = new_campaign(setting)
    client.force_login(setting.organiser)
    detail = client.get(reverse("campaigns:detail", args=[campaign.code]))
    assert [row[0] for row in detail.context["preview"].short_of_inspectors] == [d.uscc]
    services.campaign_freeze(actor=setting.organiser, campaign=campaign)
    response = client.post(
        reverse("campaigns:draw", args=[campaign.code]), {"seed": SEED, "seed_source": "公告", "confirmed": "on"}
    )
    assert response.status_code == 200
    assert d.uscc in response.content.decode()
    assert not InspectionTask.objects.filter(campaign=campaign).exists()
    public = client.get(reverse("inspections_public:detail", args=[campaign.code])).content.decode()
    assert SEED in public  # the refused attempt is published


def test_recusals_and_ratios_through_the_pages(client, setting):
    campaign = new_campaign(setting)
    client.force_login(setting.organiser)
    url = reverse("campaigns:recusal_add", args=[campaign.code])
    client.post(
        url, {"recusal-uscc": setting.holders["A"].uscc, "recusal-username": "insp_a", "recusal-reason": "回避"}
    )
    recusal = CampaignRecusal.objects.get(campaign=campaign)
    assert recusal.username == "insp_a"
    client.post(reverse("campaigns:recusal_remove", args=[campaign.code, recusal.pk]))
    assert not CampaignRecusal.objects.filter(campaign=campaign).exists()
    client.post(
        reverse("campaigns:ratios", args=[campaign.code]),
        {"ratios-ratio_A": "0.1", "ratios-ratio_B": "0.1", "ratios-ratio_C": "1", "ratios-ratio_D": "1"},
    )
    campaign.refresh_from_db()
    assert campaign.ratios["A"] == "0.1"


# --- query counts -----------------------------------------------------------------------------------


def _queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_page_queries_do_not_grow_with_the_targets(client, setting, auditor):
    ratios = {"A": "1", "B": "1", "C": "1", "D": "1"}
    small = drawn_campaign(setting, code="SMALL", ratios=ratios)
    record(InspectionTask.objects.filter(campaign=small).first(), "pass")
    pages = {
        "public": lambda c: reverse("inspections_public:detail", args=[c.code]),
        "public_list": lambda c: reverse("inspections_public:list"),
    }
    staff_pages = {
        "staff_list": lambda c: reverse("campaigns:list"),
        "staff_detail": lambda c: reverse("campaigns:detail", args=[c.code]),
    }
    audit_pages = {"audit_list": lambda c: reverse("audit_campaigns:list")}

    def measure(campaign):  # type: ignore[no-untyped-def]
        client.logout()
        counts = {name: _queries(client, url(campaign)) for name, url in pages.items()}
        client.force_login(setting.organiser)
        counts.update({name: _queries(client, url(campaign)) for name, url in staff_pages.items()})
        client.force_login(auditor)
        counts.update({name: _queries(client, url(campaign)) for name, url in audit_pages.items()})
        return counts

    before = measure(small)
    for _ in range(8):
        certify(factories.EnterpriseFactory(), setting.version)
    big = drawn_campaign(setting, code="BIG", ratios=ratios)
    tasks = list(InspectionTask.objects.filter(campaign=big).order_by("draw_position"))
    for task in tasks[:3]:
        record(task, "pass")
    assert len(tasks) == 12
    after = measure(big)
    assert after == before


# --- admin ------------------------------------------------------------------------------------------


def test_admin_shows_frozen_campaigns_read_only(client, verified, administrator):
    client.force_login(administrator)
    change = reverse("admin:approvals_campaign_change", args=[verified.pk])
    response = client.get(change)
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert client.post(change, {"name": "改名"}).status_code == 403
    verified.refresh_from_db()
    assert verified.name != "改名"
    targets = client.get(reverse("admin:approvals_campaigntarget_changelist") + f"?campaign__id__exact={verified.pk}")
    assert targets.status_code == 200
    assert client.get(reverse("admin:approvals_inspectorconflict_add")).status_code == 200


# --- demo -------------------------------------------------------------------------------------------


def test_seed_demo_campaign_is_idempotent_and_verifies():
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    first = StringIO()
    call_command("seed_demo_campaign", stdout=first, stderr=StringIO())
    campaign = Campaign.objects.get(code="SJ-2026-01")
    assert campaign.status == Campaign.Status.DRAWN
    assert "[campaign 4/4]" in first.getvalue()
    outcomes = set(InspectionTask.objects.filter(campaign=campaign).values_list("status", flat=True))
    assert InspectionTask.Status.CLOSED in outcomes and InspectionTask.Status.RECTIFYING in outcomes
    counts = (AuditEvent.objects.count(), InspectionTask.objects.count())
    second = StringIO()
    call_command("seed_demo_campaign", stdout=second, stderr=StringIO())
    assert "nothing changed" in second.getvalue()
    assert (AuditEvent.objects.count(), InspectionTask.objects.count()) == counts
    assert supervision_selectors.campaign_verify(campaign=campaign) == []


# --- races (PostgreSQL, real threads) ---------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_draws_at_once_draw_once(setting):
    from tests.concurrency.conftest import run_concurrently

    campaign = new_campaign(setting, ratios={"A": "1", "B": "1", "C": "1", "D": "1"})
    services.campaign_freeze(actor=setting.organiser, campaign=campaign)

    def draw_with(seed: str):  # type: ignore[no-untyped-def]
        return services.campaign_draw(
            actor=setting.organiser, campaign=Campaign.objects.get(pk=campaign.pk), seed=seed, seed_source="公告"
        )

    results = run_concurrently(lambda: draw_with("seed-one"), lambda: draw_with("seed-two"))

    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    assert isinstance(errors[0], services.CampaignError) and errors[0].code == "campaign_already_drawn"
    campaign.refresh_from_db()
    assert campaign.seed in ("seed-one", "seed-two")
    assert InspectionTask.objects.filter(campaign=campaign).count() == 4
    assert supervision_selectors.campaign_verify(campaign=campaign) == []


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_freeze_racing_a_ratio_change_leaves_the_frozen_ratios_on_record(setting):
    from tests.concurrency.conftest import run_concurrently

    campaign = new_campaign(setting)
    results = run_concurrently(
        lambda: services.campaign_freeze(actor=setting.organiser, campaign=Campaign.objects.get(pk=campaign.pk)),
        lambda: services.campaign_ratios_set(
            actor=setting.organiser,
            campaign=Campaign.objects.get(pk=campaign.pk),
            ratios={"A": "1", "B": "1", "C": "1", "D": "1"},
        ),
    )
    assert not isinstance(results[0], Exception), results
    campaign.refresh_from_db()
    frozen = AuditEvent.objects.get(action="campaign.frozen", object_id=str(campaign.pk))
    # Whichever came first, the ratios stored are those the freeze recorded.
    assert campaign.ratios == frozen.data["ratios"]
    if isinstance(results[1], Exception):
        assert results[1].code == "campaign_not_draft"


def test_the_recusals_hash_is_stored_at_the_freeze_and_published(client, setting):
    campaign = new_campaign(setting)
    services.campaign_freeze(actor=setting.organiser, campaign=campaign)
    campaign.refresh_from_db()
    pairs = CampaignRecusal.objects.filter(campaign=campaign).values_list("uscc", "username")
    assert campaign.recusals_sha256 == draw.roster_hash(supervision_selectors.recusals_canonical(pairs))
    page = client.get(reverse("inspections_public:detail", args=[campaign.code]))
    assert campaign.recusals_sha256 in page.content.decode()
