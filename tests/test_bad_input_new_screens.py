"""Bad input on the new screens (commitment route, inspections, campaigns, preferential policies):
every malformed POST gets a clear refusal (a form error, a message or a 4xx) and writes nothing;
odd query strings on the list pages never give a 500.

The test client re-raises an exception of the view, so a 500 fails the test with its traceback."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from approvals.models import (
    Application,
    Campaign,
    CampaignRecusal,
    Commitment,
    Inspection,
    InspectionAttachment,
    InspectionTask,
    RectificationOrder,
)
from approvals.organisation.roles import StaffRole
from credit.policies.models import (
    ApplicationStatus,
    ConstructionProject,
    Disbursement,
    EligibilityDecision,
    PolicyApplication,
    PolicyGrant,
)
from tests import factories
from tests.approvals import test_campaigns as _campaigns
from tests.approvals.test_campaigns import SEED, new_campaign
from tests.credit.test_policy_services import make_policy
from tests.workflows import test_commitment_flow as _commitment
from tests.workflows import test_policy_flow as _policy
from tests.workflows.conftest import PDF, make_item, new_draft
from tests.workflows.test_commitment_flow import CHECKLIST, commit_case, record
from tests.workflows.test_policy_flow import apply
from workflows.actions import policies as policy_actions

pytestmark = pytest.mark.django_db

# The fixtures of the flow tests, shared here (an assignment, not an import, keeps ruff's F811 quiet).
anchor_file = _campaigns.anchor_file
setting = _campaigns.setting
supervision = _commitment.supervision
loan = _policy.loan
subsidy = _policy.subsidy
office = _policy.office

HUGE = "x" * 100_000
TOO_BIG_FOR_A_REQUEST = "x" * 11 * 1024 * 1024  # above DATA_UPLOAD_MAX_MEMORY_SIZE (10 MB)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def media_in_tmp(tmp_path, settings):
    """Uploaded attachments never land in the repository's media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


def ok(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code < 500, response.status_code


def today() -> datetime.date:
    return timezone.localdate()


def days(n: int) -> str:
    return (today() + datetime.timedelta(days=n)).isoformat()


# --- portal: the commitment signature ----------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"signer_name": "", "confirmed": "on", "shown_sha256": "x"},
        {"signer_name": HUGE, "confirmed": "on", "shown_sha256": "x"},
        {"signer_name": "名\x00字", "confirmed": "on", "shown_sha256": "x"},
        {"signer_name": "LEGAL", "shown_sha256": "GOOD"},
        {"signer_name": "LEGAL", "confirmed": "maybe", "shown_sha256": "GOOD"},
        {"signer_name": "LEGAL", "confirmed": "on", "shown_sha256": ""},
        {"signer_name": "LEGAL", "confirmed": "on", "shown_sha256": "0" * 64},
        {"signer_name": "LEGAL", "confirmed": "on", "shown_sha256": "f" * 65},
        {"signer_name": "LEGAL", "confirmed": "on", "shown_sha256": "<script>"},
        {"signer_name": "别人", "confirmed": "on", "shown_sha256": "GOOD"},
        {"signer_name": " LEGAL ", "confirmed": "on", "shown_sha256": " GOOD "},
        {"signer_name": "LEGAL", "confirmed": "on", "shown_sha256": "GOOD", "signer_name_": TOO_BIG_FOR_A_REQUEST},
    ],
    ids=lambda d: ",".join(f"{k}={str(v)[:12]!r}" for k, v in d.items()) or "empty",
)
def test_commitment_signature_bad_input(client, owner, enterprise, supervision, data):
    application = new_draft(owner, enterprise, supervision["version"])
    client.force_login(owner)
    url = reverse("portal:commitment", args=[application.pk])
    digest = client.get(url).context["notice_sha256"]
    post = {
        key: str(value).replace("LEGAL", enterprise.legal_representative).replace("GOOD", digest)
        for key, value in data.items()
    }
    response = client.post(url, post)
    ok(response)
    application.refresh_from_db()
    if data.get("signer_name") == " LEGAL " or data.get("confirmed") == "maybe":
        return  # spaces around the name, any checkbox value: may legitimately sign; only the status matters
    assert application.status == Application.Status.DRAFT
    assert not Commitment.objects.exists()


def test_commitment_on_unknown_or_standard_application_is_404(client, owner, enterprise, bureau):
    standard = new_draft(owner, enterprise, make_item(bureau, co_review=0))
    client.force_login(owner)
    assert client.post(reverse("portal:commitment", args=[999999]), {}).status_code == 404
    assert client.post(reverse("portal:commitment", args=[standard.pk]), {"signer_name": "x"}).status_code == 404


def test_commitment_signed_twice_is_refused(client, owner, enterprise, supervision):
    application = new_draft(owner, enterprise, supervision["version"])
    client.force_login(owner)
    url = reverse("portal:commitment", args=[application.pk])
    data = {
        "signer_name": enterprise.legal_representative,
        "confirmed": "on",
        "shown_sha256": client.get(url).context["notice_sha256"],
    }
    assert client.post(url, data).status_code == 302
    again = client.post(url, data)
    ok(again)
    assert Commitment.objects.count() == 1


def test_commitment_of_another_enterprise_is_404(client, owner, enterprise, peer, supervision):
    application = new_draft(owner, enterprise, supervision["version"])
    client.force_login(peer)
    response = client.post(reverse("portal:commitment", args=[application.pk]), {"signer_name": "x"})
    assert response.status_code == 404


# --- portal: rectification reports ---------------------------------------------------------------------


@pytest.fixture
def order(owner, enterprise, supervision):  # type: ignore[no-untyped-def]
    _application, task = commit_case(owner, enterprise, supervision)
    record(task, "rectify", rectification_requirements="整改", rectification_deadline=today() + datetime.timedelta(5))
    return RectificationOrder.objects.get(task=task)


@pytest.mark.parametrize(
    "data",
    [{}, {"report": ""}, {"report": "   "}, {"report": HUGE}, {"report": "整改\x00完成"}, {"report": ["a", "b"]}],
    ids=["empty", "blank", "spaces", "huge", "nul", "list"],
)
def test_rectification_report_bad_input(client, owner, order, data):
    client.force_login(owner)
    response = client.post(reverse("portal:rectification_report", args=[order.pk]), data)
    ok(response)
    order.refresh_from_db()
    if data.get("report") == ["a", "b"]:
        return  # a repeated field: the last value is taken, a legitimate report
    assert order.status == "open" and not order.report


def test_rectification_report_twice_unknown_and_foreign(client, owner, peer, order):
    url = reverse("portal:rectification_report", args=[order.pk])
    client.force_login(owner)
    assert client.post(url, {"report": "已整改"}).status_code == 303
    second = client.post(url, {"report": "又整改"})
    ok(second)
    order.refresh_from_db()
    assert order.report == "已整改"
    assert client.post(reverse("portal:rectification_report", args=[999999]), {"report": "x"}).status_code == 404
    client.force_login(peer)
    assert client.post(url, {"report": "x"}).status_code == 404


def test_rectification_report_by_staff_is_refused(client, order, administrator):
    client.force_login(administrator)
    response = client.post(reverse("portal:rectification_report", args=[order.pk]), {"report": "x"})
    ok(response)
    order.refresh_from_db()
    assert order.status == "open"


# --- staff: the inspection record form ----------------------------------------------------------------


def _inspection_data(**overrides):  # type: ignore[no-untyped-def]
    data = {"inspected_on": today().isoformat(), "findings": "现场核查", "result": "pass"}
    data.update({f"check_{i}": "ok" for i in range(len(CHECKLIST))})
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


RECTIFY = {"result": "rectify", "rectification_requirements": "整改"}

INSPECTION_CASES = {
    "date_empty": {"inspected_on": ""},
    "date_missing": {"inspected_on": None},
    "date_garbage": {"inspected_on": "not a date"},
    "date_feb30": {"inspected_on": "2026-02-30"},
    "date_year0": {"inspected_on": "0000-01-01"},
    "date_year1": {"inspected_on": "0001-01-01"},
    "date_before_opening": {"inspected_on": "1900-01-01"},
    "date_tomorrow": {"inspected_on": days(1)},
    "date_max": {"inspected_on": "9999-12-31"},
    "date_overflow": {"inspected_on": "99999-01-01"},
    "result_unknown": {"result": "zzz"},
    "result_empty": {"result": ""},
    "result_missing": {"result": None},
    "result_fail_not_offered": {"result": "fail"},
    "result_list": {"result": ["pass", "rectify"]},
    "findings_empty": {"findings": ""},
    "findings_spaces": {"findings": "   "},
    "findings_huge": {"findings": HUGE},
    "findings_nul": {"findings": "a\x00b"},
    "findings_too_big_for_request": {"findings": TOO_BIG_FOR_A_REQUEST},
    "checklist_missing_one": {"check_0": None},
    "checklist_missing_all": {"check_0": None, "check_1": None},
    "checklist_unknown_answer": {"check_0": "maybe"},
    "checklist_extra_index": {"check_99": "ok", "check_0": None},
    "rectify_no_requirements": {"result": "rectify", "rectification_deadline": days(5)},
    "rectify_no_deadline": {**RECTIFY},
    "rectify_deadline_feb30": {**RECTIFY, "rectification_deadline": "2026-02-30"},
    "rectify_deadline_today": {**RECTIFY, "rectification_deadline": today().isoformat()},
    "rectify_deadline_yesterday": {**RECTIFY, "rectification_deadline": days(-1)},
    "rectify_deadline_far": {**RECTIFY, "rectification_deadline": days(367)},
    "rectify_deadline_max": {**RECTIFY, "rectification_deadline": "9999-12-31"},
    "rectify_deadline_garbage": {**RECTIFY, "rectification_deadline": "abc"},
    "rectify_deadline_year1": {**RECTIFY, "rectification_deadline": "0001-01-01"},
    "rectify_requirements_huge": {**RECTIFY, "rectification_requirements": HUGE, "rectification_deadline": days(5)},
    "rectify_requirements_spaces": {**RECTIFY, "rectification_requirements": "  ", "rectification_deadline": days(5)},
    "corrects_garbage": {"corrects": "abc"},
    "corrects_unknown": {"corrects": "999999"},
}


@pytest.mark.parametrize("overrides", INSPECTION_CASES.values(), ids=INSPECTION_CASES.keys())
def test_inspection_form_bad_input(client, owner, enterprise, supervision, overrides):
    _application, task = commit_case(owner, enterprise, supervision)
    client.force_login(task.inspector_1)
    response = client.post(reverse("supervision:task", args=[task.pk]), _inspection_data(**overrides))
    ok(response)
    assert response.status_code == 400
    assert not Inspection.objects.exists()
    task.refresh_from_db()
    assert task.status != InspectionTask.Status.CLOSED


def _pdf(name: str = "scan.pdf", content: bytes = PDF, content_type: str = "application/pdf"):  # type: ignore[no-untyped-def]
    return SimpleUploadedFile(name, content, content_type=content_type)


FILE_CASES = {
    "text_named_pdf": lambda: [_pdf("fake.pdf", b"just some text, not a pdf")],
    "html_named_png": lambda: [_pdf("x.png", b"<html><script>alert(1)</script></html>", "image/png")],
    "exe": lambda: [_pdf("virus.exe", b"MZ\x90\x00" + b"\x00" * 64, "application/octet-stream")],
    "gif": lambda: [_pdf("a.gif", b"GIF89a" + b"\x00" * 32, "image/gif")],
    "svg": lambda: [_pdf("a.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml")],
    "empty_file": lambda: [_pdf("empty.pdf", b"")],
    "one_good_one_bad": lambda: [_pdf(), _pdf("bad.pdf", b"nope")],
    "eleven_files": lambda: [_pdf(f"p{i}.pdf") for i in range(11)],
}


@pytest.mark.parametrize("files", FILE_CASES.values(), ids=FILE_CASES.keys())
def test_inspection_attachments_that_are_not_pdf_png_jpeg(client, owner, enterprise, supervision, files):
    _application, task = commit_case(owner, enterprise, supervision)
    client.force_login(task.inspector_1)
    data = _inspection_data()
    data["attachments"] = files()
    response = client.post(reverse("supervision:task", args=[task.pk]), data)
    ok(response)
    assert not Inspection.objects.exists()
    assert not InspectionAttachment.objects.exists()


def test_inspection_attachment_too_large(client, owner, enterprise, supervision, settings):
    settings.MATERIAL_MAX_BYTES = 1024
    _application, task = commit_case(owner, enterprise, supervision)
    client.force_login(task.inspector_1)
    data = _inspection_data()
    data["attachments"] = [_pdf("big.pdf", PDF + b"0" * 4096)]
    ok(client.post(reverse("supervision:task", args=[task.pk]), data))
    assert not Inspection.objects.exists()


@pytest.mark.parametrize(
    "name",
    ["a" * 400 + ".png", "../../../etc/passwd.png", "名字\x00.png", ".png", "con.png", "a/b\\c.png"],
    ids=["long_name", "traversal", "nul_in_name", "dot_only", "reserved", "slashes"],
)
def test_inspection_attachment_odd_names_of_a_real_png(client, owner, enterprise, supervision, name):
    _application, task = commit_case(owner, enterprise, supervision)
    client.force_login(task.inspector_1)
    data = _inspection_data()
    data["attachments"] = [SimpleUploadedFile(name, PNG, content_type="image/png")]
    ok(client.post(reverse("supervision:task", args=[task.pk]), data))


def test_corrects_pointing_at_a_record_of_another_task(client, owner, enterprise, supervision):
    _application, task = commit_case(owner, enterprise, supervision)
    _other_application, other = commit_case(owner, enterprise, supervision)
    foreign = record(other, "pass")
    record(task, "pass")  # closed: a form exists only for a correction of its own latest record
    before = Inspection.objects.count()
    client.force_login(task.inspector_1)
    response = client.post(reverse("supervision:task", args=[task.pk]), _inspection_data(corrects=str(foreign.pk)))
    ok(response)
    assert Inspection.objects.count() == before
    assert not Inspection.objects.filter(task=task, corrects=foreign).exists()


def test_corrects_pointing_at_an_older_record_or_with_another_result(client, owner, enterprise, supervision):
    _application, task = commit_case(owner, enterprise, supervision)
    first = record(
        task, "rectify", rectification_requirements="整改", rectification_deadline=today() + datetime.timedelta(5)
    )
    latest = record(task, "pass")
    before = Inspection.objects.count()
    client.force_login(task.inspector_1)
    url = reverse("supervision:task", args=[task.pk])
    ok(client.post(url, _inspection_data(corrects=str(first.pk))))
    ok(client.post(url, _inspection_data(corrects=str(latest.pk), result="fail")))
    ok(client.post(url, _inspection_data(corrects=str(latest.pk), result="rectify")))
    assert Inspection.objects.count() == before


def test_inspection_form_by_someone_not_assigned(client, owner, enterprise, supervision, auditor):
    _application, task = commit_case(owner, enterprise, supervision)
    client.force_login(auditor)
    ok(client.post(reverse("supervision:task", args=[task.pk]), _inspection_data()))
    assert client.post(reverse("supervision:task", args=[999999]), _inspection_data()).status_code == 404
    assert not Inspection.objects.exists()


def test_reinspection_with_rectify_or_odd_date(client, owner, enterprise, supervision):
    _application, task = commit_case(owner, enterprise, supervision)
    record(task, "rectify", rectification_requirements="整改", rectification_deadline=today() + datetime.timedelta(5))
    before = Inspection.objects.count()
    client.force_login(task.inspector_1)
    url = reverse("supervision:task", args=[task.pk])
    for overrides in (
        {**RECTIFY, "rectification_deadline": days(3)},
        {"result": "false_commitment"},
        {"inspected_on": "1900-01-01"},
        {"inspected_on": "2026-02-30"},
    ):
        ok(client.post(url, _inspection_data(**overrides)))
    assert Inspection.objects.count() == before


# --- campaigns: create -----------------------------------------------------------------------------


def _campaign_data(s, **overrides):  # type: ignore[no-untyped-def]
    data = {
        "code": "WEB-1",
        "name": "网页创建",
        "department": s.bureau.lead.pk,
        "items": [s.version.item.pk],
        "inspection_due_on": days(20),
        "ratio_A": "1",
        "ratio_B": "1",
        "ratio_C": "1",
        "ratio_D": "1",
    }
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


CAMPAIGN_CASES = {
    "code_empty": {"code": ""},
    "code_spaces": {"code": "   "},
    "code_new": {"code": "new"},
    "code_NEW": {"code": "NEW"},
    "code_space_inside": {"code": "ab c"},
    "code_chinese": {"code": "抽查-1"},
    "code_leading_hyphen": {"code": "-abc"},
    "code_41": {"code": "a" * 41},
    "code_colon": {"code": "a:b"},
    "code_slash": {"code": "SJ/1"},
    "code_nul": {"code": "x\x00"},
    "code_script": {"code": "<script>"},
    "code_fullwidth": {"code": "ＳＪ１"},
    **{f"ratio_{v!r}": {"ratio_A": v} for v in ("abc", "-1", "2", "1e-2", "", "NaN", "Infinity", "1.", ".5", "0.5\n1")},
    "ratio_13_chars": {"ratio_B": "0.12345678901"},
    "ratio_fullwidth": {"ratio_C": "０.５"},
    "ratio_comma": {"ratio_D": "0,5"},
    "ratio_missing": {"ratio_D": None},
    "ratio_1.0000001": {"ratio_A": "1.0000001"},
    "due_feb30": {"inspection_due_on": "2026-02-30"},
    "due_empty": {"inspection_due_on": ""},
    "due_yesterday": {"inspection_due_on": days(-1)},
    "due_year1": {"inspection_due_on": "0001-01-01"},
    "due_garbage": {"inspection_due_on": "abc"},
    "due_overflow": {"inspection_due_on": "10000-01-01"},
    "department_garbage": {"department": "abc"},
    "department_unknown": {"department": "999999"},
    "department_missing": {"department": None},
    "items_garbage": {"items": ["abc"]},
    "items_unknown": {"items": ["999999"]},
    "items_empty": {"items": None},
    "name_empty": {"name": ""},
    "name_spaces": {"name": "   "},
    "name_huge": {"name": HUGE},
}


@pytest.mark.parametrize("overrides", CAMPAIGN_CASES.values(), ids=CAMPAIGN_CASES.keys())
def test_campaign_create_bad_input(client, setting, overrides):
    client.force_login(setting.organiser)
    response = client.post(reverse("campaigns:create"), _campaign_data(setting, **overrides))
    ok(response)
    assert not Campaign.objects.exists()


def test_campaign_create_for_a_department_the_user_does_not_organise(client, setting):
    client.force_login(setting.organiser)
    response = client.post(reverse("campaigns:create"), _campaign_data(setting, department=setting.bureau.co[0].pk))
    ok(response)
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("code", ["SJ-2026-01", "sj-2026-01", " SJ-2026-01 "])
def test_campaign_create_with_a_taken_code(client, setting, code):
    new_campaign(setting)
    client.force_login(setting.organiser)
    ok(client.post(reverse("campaigns:create"), _campaign_data(setting, code=code)))
    assert Campaign.objects.count() == 1


# --- campaigns: ratios, recusals, freeze, draw -----------------------------------------------------


# (" 0.5" is no bad input: the form strips it to "0.5".)
RATIO_CASES = ["abc", "-1", "2", "1e-2", "", "NaN", "Infinity", "0.1234567890123", "０.５", "0.5\n1", None]


@pytest.mark.parametrize("value", RATIO_CASES, ids=[repr(v) for v in RATIO_CASES])
def test_campaign_ratios_form_bad_input(client, setting, value):
    campaign = new_campaign(setting)
    before = dict(campaign.ratios)
    client.force_login(setting.organiser)
    data = {"ratios-ratio_A": "0.5", "ratios-ratio_B": "0.5", "ratios-ratio_C": "1", "ratios-ratio_D": "1"}
    if value is None:
        del data["ratios-ratio_A"]
    else:
        data["ratios-ratio_A"] = value
    ok(client.post(reverse("campaigns:ratios", args=[campaign.code]), data))
    campaign.refresh_from_db()
    assert campaign.ratios == before


def test_campaign_ratios_after_the_freeze_and_on_an_unknown_campaign(client, setting):
    campaign = new_campaign(setting)
    client.force_login(setting.organiser)
    assert client.post(reverse("campaigns:freeze", args=[campaign.code])).status_code == 302
    campaign.refresh_from_db()
    before = dict(campaign.ratios)
    data = {"ratios-ratio_A": "0.5", "ratios-ratio_B": "0.5", "ratios-ratio_C": "1", "ratios-ratio_D": "1"}
    ok(client.post(reverse("campaigns:ratios", args=[campaign.code]), data))
    campaign.refresh_from_db()
    assert campaign.ratios == before
    assert client.post(reverse("campaigns:ratios", args=["NOPE"]), data).status_code == 404


RECUSAL_CASES = {
    "uscc_unknown": {"recusal-uscc": "91210100MA0XXXXXX0"},
    "uscc_script": {"recusal-uscc": "<script>"},
    "uscc_empty": {"recusal-uscc": ""},
    "uscc_too_long": {"recusal-uscc": "9" * 40},
    "uscc_nul": {"recusal-uscc": "9121\x00"},
    "username_unknown": {"recusal-username": "nobody"},
    "username_not_inspector": {"recusal-username": "OUTSIDER"},
    "username_empty": {"recusal-username": ""},
    "reason_empty": {"recusal-reason": ""},
    "reason_spaces": {"recusal-reason": "   "},
    "reason_huge": {"recusal-reason": HUGE},
    "everything_missing": {"recusal-uscc": None, "recusal-username": None, "recusal-reason": None},
}


@pytest.mark.parametrize("overrides", RECUSAL_CASES.values(), ids=RECUSAL_CASES.keys())
def test_campaign_recusal_add_bad_input(client, setting, overrides):
    campaign = new_campaign(setting)
    client.force_login(setting.organiser)
    data = {"recusal-uscc": setting.holders["A"].uscc, "recusal-username": "insp_a", "recusal-reason": "回避"}
    for key, value in overrides.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value.replace("OUTSIDER", "insp_other")
    ok(client.post(reverse("campaigns:recusal_add", args=[campaign.code]), data))
    assert not CampaignRecusal.objects.exists()


def test_campaign_recusal_added_twice_and_removed_twice(client, setting):
    campaign = new_campaign(setting)
    other = new_campaign(setting, code="OTHER-1")
    client.force_login(setting.organiser)
    data = {"recusal-uscc": setting.holders["A"].uscc, "recusal-username": "insp_a", "recusal-reason": "回避"}
    url = reverse("campaigns:recusal_add", args=[campaign.code])
    assert client.post(url, data).status_code == 302
    ok(client.post(url, data))
    assert CampaignRecusal.objects.count() == 1
    recusal = CampaignRecusal.objects.get()
    ok(client.post(reverse("campaigns:recusal_remove", args=[other.code, recusal.pk])))
    assert CampaignRecusal.objects.count() == 1
    ok(client.post(reverse("campaigns:recusal_remove", args=[campaign.code, 999999])))
    assert client.post(reverse("campaigns:recusal_remove", args=[campaign.code, recusal.pk])).status_code == 302
    ok(client.post(reverse("campaigns:recusal_remove", args=[campaign.code, recusal.pk])))


def test_campaign_freeze_twice(client, setting):
    campaign = new_campaign(setting)
    client.force_login(setting.organiser)
    url = reverse("campaigns:freeze", args=[campaign.code])
    assert client.post(url).status_code == 302
    campaign.refresh_from_db()
    frozen_at, targets_sha = campaign.frozen_at, campaign.targets_sha256
    ok(client.post(url))
    campaign.refresh_from_db()
    assert (campaign.status, campaign.frozen_at, campaign.targets_sha256) == (
        Campaign.Status.FROZEN,
        frozen_at,
        targets_sha,
    )
    assert client.post(reverse("campaigns:freeze", args=["NOPE"])).status_code == 404


def test_campaign_freeze_without_targets(client, setting, bureau):
    lonely = make_item(bureau, co_review=0)
    campaign = new_campaign(setting, code="EMPTY-1", items=[lonely.item])
    client.force_login(setting.organiser)
    ok(client.post(reverse("campaigns:freeze", args=[campaign.code])))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


DRAW_CASES = {
    "seed_empty": {"seed": ""},
    "seed_spaces": {"seed": "   "},
    "seed_fullwidth_space": {"seed": "\u3000"},
    "seed_missing": {"seed": None},
    "seed_huge": {"seed": HUGE},
    "seed_201": {"seed": "9" * 201},
    "seed_nul": {"seed": "12\x0034"},
    "seed_too_big_for_request": {"seed": TOO_BIG_FOR_A_REQUEST},
    "source_empty": {"seed_source": ""},
    "source_spaces": {"seed_source": "   "},
    "source_huge": {"seed_source": HUGE},
    "not_confirmed": {"confirmed": None},
    "confirmed_garbage": {"confirmed": "false"},
}


@pytest.mark.parametrize("overrides", DRAW_CASES.values(), ids=DRAW_CASES.keys())
def test_campaign_draw_bad_input(client, setting, overrides):
    campaign = new_campaign(setting)
    client.force_login(setting.organiser)
    assert client.post(reverse("campaigns:freeze", args=[campaign.code])).status_code == 302
    data = {"seed": SEED, "seed_source": "福彩公告", "confirmed": "on"}
    for key, value in overrides.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    ok(client.post(reverse("campaigns:draw", args=[campaign.code]), data))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.FROZEN
    assert not InspectionTask.objects.filter(campaign=campaign).exists()


def test_campaign_draw_on_a_draft_twice_and_unknown(client, setting):
    campaign = new_campaign(setting)
    client.force_login(setting.organiser)
    data = {"seed": SEED, "seed_source": "福彩公告", "confirmed": "on"}
    url = reverse("campaigns:draw", args=[campaign.code])
    ok(client.post(url, data))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert client.post(reverse("campaigns:freeze", args=[campaign.code])).status_code == 302
    assert client.post(url, data).status_code == 302
    count = InspectionTask.objects.filter(campaign=campaign).count()
    ok(client.post(url, {**data, "seed": "another seed"}))
    assert InspectionTask.objects.filter(campaign=campaign).count() == count
    assert client.post(reverse("campaigns:draw", args=["NOPE"]), data).status_code == 404


def test_campaign_draw_with_all_ratios_zero(client, setting):
    campaign = new_campaign(setting, ratios={"A": "0", "B": "0", "C": "0", "D": "0"})
    client.force_login(setting.organiser)
    assert client.post(reverse("campaigns:freeze", args=[campaign.code])).status_code == 302
    ok(
        client.post(
            reverse("campaigns:draw", args=[campaign.code]), {"seed": SEED, "seed_source": "公告", "confirmed": "on"}
        )
    )
    ok(client.get(reverse("campaigns:detail", args=[campaign.code])))


# --- preferential policies: portal ---------------------------------------------------------------------


def policy_counts() -> tuple[int, ...]:
    return (
        PolicyApplication.objects.count(),
        EligibilityDecision.objects.exclude(purpose="policy_check").count(),
        PolicyGrant.objects.count(),
        ConstructionProject.objects.count(),
        Disbursement.objects.count(),
    )


BAD_AMOUNTS = ["abc", "-5", "0", "0.001", "1e30", "1E+20", "NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", ""]
BAD_AMOUNTS += ["1,000", "１e999999999", "9" * 40, "1e-999999999", " ", "0x10", "½"]
BAD_TERMS = ["0", "-1", "9999999999", "99999999999999999999999", "abc", "1.5", "", "1e3", "NaN", "６００１"]


@pytest.mark.parametrize("policy_name", ["loan", "subsidy"])
@pytest.mark.parametrize(
    "overrides",
    [{"requested_amount": v} for v in BAD_AMOUNTS]
    + [{"requested_term_months": v} for v in BAD_TERMS]
    + [
        {"enterprise": "abc"},
        {"enterprise": ""},
        {"enterprise": "999999"},
        {"enterprise": "PEER"},
        {"statement": ""},
        {"statement": HUGE},
        {"statement": "a\x00b"},
    ],
    ids=lambda d: ",".join(f"{k}={str(v)[:14]!r}" for k, v in d.items()),
)
def test_policy_apply_bad_input(client, owner, enterprise, peer_enterprise, loan, subsidy, policy_name, overrides):
    policy = {"loan": loan, "subsidy": subsidy}[policy_name]
    client.force_login(owner)
    before = policy_counts()
    data = {"enterprise": enterprise.pk, "requested_amount": "1000", "requested_term_months": "12", "statement": "x"}
    data.update(overrides)
    if data["enterprise"] == "PEER":
        data["enterprise"] = peer_enterprise.pk
    ok(client.post(reverse("policies:apply", args=[policy.pk]), data))
    assert policy_counts() == before


@pytest.mark.parametrize("pk", [999999])
def test_policy_apply_unknown_policy(client, owner, enterprise, pk):
    client.force_login(owner)
    data = {"enterprise": enterprise.pk, "requested_amount": "1", "requested_term_months": "1", "statement": "x"}
    assert client.post(reverse("policies:apply", args=[pk]), data).status_code == 404


def test_policy_withdraw_twice_and_after_a_decision(client, owner, enterprise, loan, subsidy, office):
    application = apply(owner, enterprise, loan)
    client.force_login(owner)
    url = reverse("policies:withdraw", args=[application.pk])
    assert client.post(url).status_code == 302
    ok(client.post(url))
    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    granted = apply(owner, enterprise, subsidy)
    policy_actions.policy_approve_and_route(actor=office, application=granted, amount="1000", term_months=6)
    ok(client.post(reverse("policies:withdraw", args=[granted.pk])))
    granted.refresh_from_db()
    assert granted.status == ApplicationStatus.APPROVED
    assert client.post(reverse("policies:withdraw", args=[999999])).status_code == 404


@pytest.fixture
def deposit():  # type: ignore[no-untyped-def]
    return make_policy("deposit", kind="deposit_waiver", conditions=[])


PROJECT_CASES = (
    [{"contract_amount": v} for v in BAD_AMOUNTS]
    + [{"wage_deposit_base": v} for v in ["-1", "NaN", "Infinity", "abc", "1e30", "", "0.001"]]
    + [
        {"wage_deposit_base": "50000000.01"},
        {"contract_amount": "100", "wage_deposit_base": "1000"},
        {"name": ""},
        {"name": "   "},
        {"name": HUGE},
        {"reference": HUGE},
        {"enterprise": "abc"},
        {"enterprise": "PEER"},
    ]
)


@pytest.mark.parametrize(
    "overrides", PROJECT_CASES, ids=lambda d: ",".join(f"{k}={str(v)[:14]!r}" for k, v in d.items())
)
def test_project_register_bad_input(client, owner, enterprise, peer_enterprise, deposit, overrides):
    client.force_login(owner)
    before = policy_counts()
    data = {"enterprise": enterprise.pk, "name": "项目", "contract_amount": "50000000", "wage_deposit_base": "200000"}
    data.update(overrides)
    if data["enterprise"] == "PEER":
        data["enterprise"] = peer_enterprise.pk
    ok(client.post(reverse("policies:project_register"), data))
    assert policy_counts() == before


def test_project_register_with_the_largest_amounts(client, owner, enterprise, deposit):
    client.force_login(owner)
    data = {
        "enterprise": enterprise.pk,
        "name": "项目",
        "contract_amount": "99999999999999.99",
        "wage_deposit_base": "99999999999999.99",
    }
    ok(client.post(reverse("policies:project_register"), data))


def test_project_decide_unknown_is_404(client, owner, deposit):
    client.force_login(owner)
    assert client.post(reverse("policies:project_decide", args=[999999])).status_code == 404


# --- preferential policies: the policy office ----------------------------------------------------------


APPROVE_CASES = (
    [{"approve-amount": v} for v in BAD_AMOUNTS]
    + [{"approve-term_months": v} for v in BAD_TERMS]
    + [
        {"approve-note": HUGE},
        {"approve-amount": None},
        {"action": "zzz"},
        {"action": ""},
        {"action": None},
        {"action": ["approve", "refuse"]},
    ]
)


@pytest.mark.parametrize(
    "overrides", APPROVE_CASES, ids=lambda d: ",".join(f"{k}={str(v)[:14]!r}" for k, v in d.items())
)
def test_policy_office_approve_bad_input(client, owner, enterprise, loan, office, overrides):
    application = apply(owner, enterprise, loan)
    client.force_login(office)
    before = policy_counts()
    data = {"action": "approve", "approve-amount": "1000", "approve-term_months": "12"}
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    response = client.post(reverse("policy_office:review", args=[application.pk]), data)
    ok(response)
    if data.get("action") == ["approve", "refuse"]:
        return  # the last value is taken: a refusal without reasons (a form error) or nothing
    assert policy_counts() == before
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING_REVIEW


@pytest.mark.parametrize("reason", ["", "   ", HUGE, "a\x00b", None], ids=["empty", "spaces", "huge", "nul", "missing"])
def test_policy_office_refuse_bad_input(client, owner, enterprise, loan, office, reason):
    application = apply(owner, enterprise, loan)
    client.force_login(office)
    data = {"action": "refuse"}
    if reason is not None:
        data["refuse-reason"] = reason
    ok(client.post(reverse("policy_office:review", args=[application.pk]), data))
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING_REVIEW


def test_policy_office_decides_twice_and_unknown(client, owner, enterprise, loan, office):
    application = apply(owner, enterprise, loan)
    client.force_login(office)
    url = reverse("policy_office:review", args=[application.pk])
    assert client.post(url, {"action": "refuse", "refuse-reason": "不符合"}).status_code == 302
    ok(client.post(url, {"action": "approve", "approve-amount": "1000", "approve-term_months": "12"}))
    ok(client.post(url, {"action": "refuse", "refuse-reason": "again"}))
    assert not PolicyGrant.objects.exists()
    assert client.post(reverse("policy_office:review", args=[999999]), {"action": "refuse"}).status_code == 404


DISBURSEMENT_CASES = (
    [{"amount": v} for v in BAD_AMOUNTS]
    + [{"amount": "90000.01"}, {"amount": "90001"}]
    + [
        {"paid_on": v}
        for v in [days(1), days(3650), "9999-12-31", "2026-02-30", "", "abc", "0001-01-01", "1900-01-01", "10000-01-01"]
    ]
    + [{"reference": ""}, {"reference": "   "}, {"reference": HUGE}, {"reference": "P\x00"}]
)


@pytest.mark.parametrize(
    "overrides", DISBURSEMENT_CASES, ids=lambda d: ",".join(f"{k}={str(v)[:14]!r}" for k, v in d.items())
)
def test_policy_office_disbursement_bad_input(client, owner, enterprise, subsidy, office, overrides):
    application = apply(owner, enterprise, subsidy)
    grant = policy_actions.policy_approve_and_route(
        actor=office, application=application, amount="90000", term_months=12
    )
    client.force_login(office)
    data = {"amount": "100", "paid_on": today().isoformat(), "reference": "P-1"}
    data.update(overrides)
    ok(client.post(reverse("policy_office:grant", args=[grant.pk]), data))
    assert not Disbursement.objects.exists()
    grant.refresh_from_db()
    assert grant.disbursed_total == Decimal("0")


def test_policy_office_disbursement_over_the_remainder_after_a_payment(client, owner, enterprise, subsidy, office):
    application = apply(owner, enterprise, subsidy)
    grant = policy_actions.policy_approve_and_route(actor=office, application=application, amount="900", term_months=6)
    client.force_login(office)
    url = reverse("policy_office:grant", args=[grant.pk])
    paid = {"paid_on": today().isoformat(), "reference": "P"}
    assert client.post(url, {**paid, "amount": "900"}).status_code == 302
    ok(client.post(url, {**paid, "amount": "0.01"}))  # nothing remains: no form at all
    assert Disbursement.objects.count() == 1
    assert client.post(reverse("policy_office:grant", args=[999999]), paid).status_code == 404


# --- the auditor's replay ----------------------------------------------------------------------------


def test_audit_replay_of_an_unknown_decision(client, auditor):
    client.force_login(auditor)
    assert client.post(reverse("audit_eligibility:replay", args=[999999])).status_code == 404
    assert client.get(reverse("audit_eligibility:decision", args=[999999])).status_code == 404


def test_audit_replay_with_a_body_of_garbage(client, auditor, owner, enterprise, loan):
    apply(owner, enterprise, loan)
    decision = EligibilityDecision.objects.get(purpose="policy_application")
    client.force_login(auditor)
    ok(client.post(reverse("audit_eligibility:replay", args=[decision.pk]), {"pk": "abc", "all_agree": "zzz"}))


# --- list pages with odd query strings ---------------------------------------------------------------


ODD_QUERIES = [
    "?page=abc",
    "?page=999999",
    "?page=-1",
    "?page=0",
    "?page=1e3",
    "?page=99999999999999999999999999",
    "?page=%00",
    "?page=1&page=2",
    "?page=%E4%B8%80",
    "?zzz=<script>alert(1)</script>",
]


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_public_inspection_list_odd_query(client, query):
    ok(client.get("/inspections/" + query))


AUDIT_QUERIES = [
    "?result=zzz&purpose=zzz&uscc=<script>",
    "?result=eligible&purpose=policy_application&uscc=" + "9" * 200,
    "?uscc=%00",
    "?result=&purpose=&uscc=",
    "?result=ineligible&page=abc",
    "?result=eligible&page=999999",
    "?purpose=deposit_waiver&page=-5",
    "?uscc=91210100MA0XXXXXX0&page=2",
    *ODD_QUERIES,
]


@pytest.mark.parametrize("query", AUDIT_QUERIES)
def test_audit_eligibility_list_odd_query(client, auditor, owner, enterprise, loan, query):
    apply(owner, enterprise, loan)
    client.force_login(auditor)
    ok(client.get(reverse("audit_eligibility:list") + query))


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_campaign_list_odd_query(client, setting, query):
    new_campaign(setting)
    client.force_login(setting.organiser)
    ok(client.get(reverse("campaigns:list") + query))


@pytest.mark.parametrize("query", [*ODD_QUERIES, "?targets=abc&page=zzz", "?targets=999999&page=-1"])
def test_campaign_detail_odd_query(client, setting, query):
    campaign = new_campaign(setting)
    client.force_login(setting.organiser)
    ok(client.get(reverse("campaigns:detail", args=[campaign.code]) + query))
    client.post(reverse("campaigns:freeze", args=[campaign.code]))
    ok(client.get(reverse("campaigns:detail", args=[campaign.code]) + query))
    client.post(
        reverse("campaigns:draw", args=[campaign.code]), {"seed": SEED, "seed_source": "公告", "confirmed": "on"}
    )
    ok(client.get(reverse("campaigns:detail", args=[campaign.code]) + query))
    ok(client.get(reverse("inspections_public:detail", args=[campaign.code]) + query))


@pytest.mark.parametrize("name", ["policy_office:home", "policy_office:grants", "policy_office:projects"])
@pytest.mark.parametrize("query", ["?page=x", *ODD_QUERIES])
def test_policy_office_lists_odd_query(client, owner, enterprise, loan, office, name, query):
    apply(owner, enterprise, loan)
    client.force_login(office)
    ok(client.get(reverse(name) + query))


@pytest.mark.parametrize("name", ["policies:applications", "policies:projects", "portal:inspections"])
@pytest.mark.parametrize("query", ODD_QUERIES)
def test_portal_lists_odd_query(client, owner, enterprise, loan, name, query):
    apply(owner, enterprise, loan)
    client.force_login(owner)
    ok(client.get(reverse(name) + query))


@pytest.mark.parametrize("query", ["?enterprise=abc", "?enterprise=999999", "?enterprise=-1", "?enterprise=%00"])
def test_policy_apply_page_odd_query(client, owner, enterprise, loan, query):
    client.force_login(owner)
    ok(client.get(reverse("policies:apply", args=[loan.pk]) + query))


@pytest.mark.parametrize("query", ["?correct=abc", "?correct=999999", "?correct=%00", "?correct=-1"])
def test_supervision_task_page_odd_query(client, owner, enterprise, supervision, query):
    _application, task = commit_case(owner, enterprise, supervision)
    record(task, "pass")
    client.force_login(task.inspector_1)
    ok(client.get(reverse("supervision:task", args=[task.pk]) + query))
    ok(client.get(reverse("supervision:mine") + query))


def test_inspector_of_another_department_posts_to_the_task(client, owner, enterprise, supervision):
    _application, task = commit_case(owner, enterprise, supervision)
    outsider = factories.staff_with_role(StaffRole.INSPECTOR, department=factories.department("别的支队"))
    client.force_login(outsider)
    assert client.post(reverse("supervision:task", args=[task.pk]), _inspection_data()).status_code == 404
    assert not Inspection.objects.exists()
