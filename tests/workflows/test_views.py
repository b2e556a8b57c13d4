"""The portal, the staff pages and the public pages over HTTP."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from approvals.applications import services
from approvals.models import Application, ApplicationMaterial, Certificate, Step
from tests import factories
from tests.workflows.conftest import PDF, accept, file_application, make_item, new_draft, only_task, review_all
from workflows.actions import applications as actions
from workflows.models import ApplicationProcess

pytestmark = pytest.mark.django_db


def pdf(name="a.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def filing(version, enterprise, **extra):
    data = {
        "enterprise": enterprise.pk,
        "project_name": "新店",
        "project_address": "沈阳市和平区",
        "description": "开设门店",
        "contact_name": "张三",
        "contact_phone": "13800000000",
        "idempotency_key": str(uuid.uuid4()),
        "submit": "1",
    }
    first = version.materials.get(position=1)
    data[f"material_{first.pk}"] = pdf()
    data.update(extra)
    return data


def nothing_written():
    return (
        Application.objects.count() == 0
        and ApplicationMaterial.objects.count() == 0
        and not ApplicationProcess.objects.exists()
    )


# --- public pages ---------------------------------------------------------------------------------


def test_anonymous_sees_list_guide_and_certificate_check_only(client, bureau):
    version = make_item(bureau, code="SC-009")
    assert client.get(reverse("service_list")).status_code == 200
    assert client.get(reverse("service_list"), {"q": "食品", "department": bureau.lead.pk}).status_code == 200
    guide = client.get(reverse("service_guide", args=["SC-009"]))
    assert guide.status_code == 200 and version.name in guide.content.decode()
    assert client.get(reverse("certificate_verify"), {"number": "NOPE"}).status_code == 200
    for url in (
        reverse("portal:applications"),
        reverse("workbench:home"),
        reverse("portal:application_file", args=[version.pk]),
    ):
        assert client.get(url).status_code == 302


def test_service_list_search_filters(client, bureau):
    make_item(bureau, code="SC-101", name="食品经营许可")
    make_item(bureau, code="WJ-101", name="公共场所卫生许可", lead_department=bureau.co[0])
    page = client.get(reverse("service_list"), {"q": "卫生"}).context["page"]
    assert [v.item.code for v in page] == ["WJ-101"]
    page = client.get(reverse("service_list"), {"department": bureau.co[0].pk}).context["page"]
    assert {v.item.code for v in page} == {"SC-101", "WJ-101"}  # SC-101 lists co[0] as a co-review department
    assert client.get(reverse("service_list"), {"department": "x'; drop"}).status_code == 200


def test_unpublished_item_has_no_guide(client, bureau):
    assert client.get(reverse("service_guide", args=["NOPE"])).status_code == 404


# --- filing ---------------------------------------------------------------------------------------


def test_file_and_submit_creates_reference_process_and_confirmation(client, bureau, owner, enterprise):
    version = make_item(bureau)
    client.force_login(owner)
    response = client.post(reverse("portal:application_file", args=[version.pk]), filing(version, enterprise))
    assert response.status_code == 302
    application = Application.objects.get()
    assert response["Location"] == reverse("portal:application_submitted", args=[application.pk])
    assert application.status == Application.Status.SUBMITTED and application.reference
    assert ApplicationProcess.objects.filter(artifact_object_id=application.pk).count() == 1
    assert client.get(response["Location"]).status_code == 200


def test_same_submission_twice_creates_one_application(client, bureau, owner, enterprise):
    version = make_item(bureau)
    client.force_login(owner)
    data = filing(version, enterprise)
    client.post(reverse("portal:application_file", args=[version.pk]), data)
    data[f"material_{version.materials.get(position=1).pk}"] = pdf()
    again = client.post(reverse("portal:application_file", args=[version.pk]), data)
    assert again.status_code == 302
    assert Application.objects.count() == 1
    assert ApplicationProcess.objects.count() == 1


def test_save_draft_then_submit(client, bureau, owner, enterprise):
    version = make_item(bureau)
    client.force_login(owner)
    data = filing(version, enterprise)
    del data["submit"]
    data["save"] = "1"
    response = client.post(reverse("portal:application_file", args=[version.pk]), data)
    draft = Application.objects.get()
    assert draft.status == Application.Status.DRAFT and draft.reference is None
    assert response.status_code == 302
    data.pop("save")
    data["submit"] = "1"
    data["draft"] = draft.pk
    data.pop(f"material_{version.materials.get(position=1).pk}")  # already uploaded with the draft
    response = client.post(reverse("portal:application_file", args=[version.pk]), data)
    draft.refresh_from_db()
    assert draft.status == Application.Status.SUBMITTED


def test_missing_mandatory_material_is_a_form_error_and_writes_nothing(client, bureau, owner, enterprise):
    version = make_item(bureau)
    client.force_login(owner)
    data = filing(version, enterprise)
    data.pop(f"material_{version.materials.get(position=1).pk}")
    response = client.post(reverse("portal:application_file", args=[version.pk]), data)
    assert response.status_code == 400
    assert response.context["form"].has_error("__all__", "material_missing")
    assert nothing_written()


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"<html><script>alert(1)</script></html>", "file_type_not_allowed"),
        (b"", "file_empty"),
        (b"MZ\x90\x00executable", "file_type_not_allowed"),
    ],
)
def test_disguised_or_empty_file_is_refused_and_writes_nothing(client, bureau, owner, enterprise, content, code):
    version = make_item(bureau)
    client.force_login(owner)
    data = filing(version, enterprise)
    data[f"material_{version.materials.get(position=1).pk}"] = pdf("申请书.pdf", content)
    response = client.post(reverse("portal:application_file", args=[version.pk]), data)
    assert response.status_code == 400
    assert response.context["form"].errors
    assert nothing_written()


def test_oversize_file_is_refused(client, bureau, owner, enterprise, settings):
    settings.MATERIAL_MAX_BYTES = 2048
    version = make_item(bureau)
    client.force_login(owner)
    data = filing(version, enterprise)
    field = f"material_{version.materials.get(position=1).pk}"
    data[field] = pdf("big.pdf", PDF + b"0" * 4096)
    response = client.post(reverse("portal:application_file", args=[version.pk]), data)
    assert response.status_code == 400
    assert response.context["form"].has_error(field, "file_too_large")  # on the file's own slot
    assert nothing_written()


def test_tampered_enterprise_or_item_is_refused(client, bureau, owner, enterprise, peer_enterprise):
    version = make_item(bureau)
    client.force_login(owner)
    response = client.post(reverse("portal:application_file", args=[version.pk]), filing(version, peer_enterprise))
    assert response.status_code == 400
    assert response.context["form"].has_error("enterprise")
    draft_version = make_item(bureau)
    draft_version.status = "draft"
    type(draft_version).objects.filter(pk=draft_version.pk).update(
        status="closed", closed_at=draft_version.published_at
    )
    assert (
        client.post(
            reverse("portal:application_file", args=[draft_version.pk]), filing(draft_version, enterprise)
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("portal:application_file", args=[999999]), filing(version, enterprise)).status_code == 404
    )
    assert nothing_written()


def test_bad_idempotency_key_is_a_form_error(client, bureau, owner, enterprise):
    version = make_item(bureau)
    client.force_login(owner)
    response = client.post(
        reverse("portal:application_file", args=[version.pk]), filing(version, enterprise, idempotency_key="x")
    )
    assert response.status_code == 400
    assert nothing_written()


# --- access ---------------------------------------------------------------------------------------


def test_other_enterprise_gets_404_for_everything(client, bureau, owner, enterprise, peer):
    version = make_item(bureau)
    application = file_application(owner, enterprise, version)
    material = application.materials.first()
    task = only_task(application)
    client.force_login(peer)
    for url in (
        reverse("portal:application", args=[application.pk]),
        reverse("portal:application_submitted", args=[application.pk]),
        reverse("material_download", args=[material.pk]),
        reverse("workbench:home"),
        reverse("workbench:task", args=[task.pk]),
        reverse("workbench:application", args=[application.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("portal:application_withdraw", args=[application.pk])).status_code == 404
    assert client.post(reverse("workbench:task_claim", args=[task.pk])).status_code == 404
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED


def test_owner_downloads_own_material_with_safe_headers(client, bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau))
    material = application.materials.first()
    client.force_login(owner)
    response = client.get(reverse("material_download", args=[material.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_reviewer_of_x_cannot_see_or_claim_y_tasks(client, bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau, co_review=2))
    accept(bureau, application)
    first, second = [t for t in actions.open_tasks(application) if t.flow_task.name == "review"]
    wrong = bureau.reviewers[int(second.owner_permission_obj_pk)]
    client.force_login(wrong)
    assert client.get(reverse("workbench:task", args=[first.pk])).status_code == 404
    assert client.post(reverse("workbench:task_claim", args=[first.pk])).status_code == 404
    queue = client.get(reverse("workbench:home")).context["queue"]
    assert [step.task_id for step in queue] == [second.pk]


def test_enterprise_user_has_no_workbench(client, owner):
    client.force_login(owner)
    assert client.get(reverse("workbench:home")).status_code == 404
    assert client.get(reverse("workbench:supervision")).status_code == 404


# --- staff over HTTP ------------------------------------------------------------------------------


def test_whole_procedure_over_http(client, bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau, co_review=1))
    task = only_task(application, "accept")
    client.force_login(bureau.desk_user)
    assert client.post(reverse("workbench:task_claim", args=[task.pk])).status_code == 302
    bad = client.post(reverse("workbench:task", args=[task.pk]), {"decision": "not_accept", "text": ""})
    assert bad.status_code == 400 and bad.context["form"].has_error("__all__", "reasons_required")
    assert client.post(reverse("workbench:task", args=[task.pk]), {"decision": "accept"}).status_code == 302
    review = only_task(application, "review")
    reviewer = bureau.reviewers[int(review.owner_permission_obj_pk)]
    client.force_login(reviewer)
    client.post(reverse("workbench:task_claim", args=[review.pk]))
    assert (
        client.post(reverse("workbench:task", args=[review.pk]), {"outcome": "agree", "reasons": "同意"}).status_code
        == 302
    )
    decide = only_task(application, "decide")
    client.force_login(bureau.decider)
    client.post(reverse("workbench:task_claim", args=[decide.pk]))
    assert client.post(reverse("workbench:task", args=[decide.pk]), {"outcome": "approved"}).status_code == 302
    certificate = Certificate.objects.get(application=application)
    client.logout()
    page = client.get(reverse("certificate_verify_code", args=[certificate.verification_code]))
    assert page.context["state"] == "valid"
    assert enterprise.name in page.content.decode()
    assert (
        client.get(reverse("certificate_qr", args=[certificate.verification_code]))["Content-Type"] == "image/svg+xml"
    )
    services.certificate_revoke(actor=bureau.decider, certificate=certificate, reason="虚假材料")
    page = client.get(reverse("certificate_verify"), {"number": certificate.number.lower()})
    assert page.context["state"] == "revoked"
    assert "虚假材料" in page.content.decode()


def test_task_page_refuses_completion_without_claim(client, bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau))
    task = only_task(application, "accept")
    client.force_login(bureau.desk_user)
    response = client.post(reverse("workbench:task", args=[task.pk]), {"decision": "accept"})
    assert response.status_code == 400
    assert response.context["form"].has_error("__all__", "task_not_yours")


def test_clock_actions_over_http(client, bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau, co_review=1))
    accept(bureau, application)
    reviewer = bureau.reviewers[bureau.co[0].pk]
    client.force_login(reviewer)
    url = reverse("workbench:clock_action", args=[application.pk, "suspend"])
    client.post(
        url,
        {
            "department": bureau.co[0].pk,
            "suspend-reason": "expert_review",
            "suspend-comment": "专家评审",
            "suspend-expected_days": "5",
        },
    )
    application.refresh_from_db()
    assert application.clock_suspended
    client.post(reverse("workbench:clock_action", args=[application.pk, "resume"]), {"department": bureau.co[0].pk})
    application.refresh_from_db()
    assert not application.clock_suspended
    client.force_login(bureau.decider)
    client.post(
        reverse("workbench:clock_action", args=[application.pk, "extend"]), {"extend-days": "99", "extend-reason": "x"}
    )
    assert not application.extension_requests.exists()  # over the form's bound: refused
    client.post(
        reverse("workbench:clock_action", args=[application.pk, "extend"]),
        {"extend-days": "5", "extend-reason": "复杂"},
    )
    # the decision maker asks; the head of the bureau decides (art. 42)
    [request] = application.extension_requests.all()
    assert request.status == "pending" and not application.clock_events.filter(kind="extended").exists()
    client.force_login(factories.staff_with_role("bureau_head"))
    client.post(reverse("workbench:extension_decide", args=[request.pk]), {"decision": "approve"})
    assert application.clock_events.filter(kind="extended", days=5).exists()
    assert client.post(reverse("workbench:clock_action", args=[application.pk, "explode"])).status_code == 404


def test_portal_supplement_answer_and_withdraw(client, bureau, owner, enterprise):
    version = make_item(bureau)
    application = file_application(owner, enterprise, version)
    task = only_task(application, "accept")
    actions.task_claim(actor=bureau.desk_user, task=task)
    missing = version.materials.get(position=2)
    actions.accept_complete(
        actor=bureau.desk_user, task=task, decision="supplement", material_ids=[missing.pk], text="补平面图"
    )
    notice = application.supplements.get()
    client.force_login(owner)
    detail = client.get(reverse("portal:application", args=[application.pk]))
    assert detail.context["open_notice"] == notice
    url = reverse("portal:supplement_answer", args=[application.pk, notice.pk])
    client.post(url, {"answer": "见附件", f"material_{missing.pk}": pdf("平面图.pdf")})
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    client.post(reverse("portal:application_withdraw", args=[application.pk]), {"reason": "不办了"})
    application.refresh_from_db()
    assert application.status == Application.Status.WITHDRAWN


# --- query counts ---------------------------------------------------------------------------------


def test_department_queue_query_count_does_not_grow(client, bureau, owner, enterprise, django_assert_max_num_queries):
    version = make_item(bureau)
    for _ in range(2):
        file_application(owner, enterprise, version)
    client.force_login(bureau.desk_user)
    with django_assert_max_num_queries(40) as few:
        client.get(reverse("workbench:home"))
    for _ in range(8):
        file_application(owner, enterprise, version)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("workbench:home"))
    assert len(response.context["queue"]) == 10


def test_application_list_query_count_does_not_grow(client, bureau, owner, enterprise, django_assert_max_num_queries):
    version = make_item(bureau)
    file_application(owner, enterprise, version)
    new_draft(owner, enterprise, version)
    client.force_login(owner)
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("portal:applications"))
    for _ in range(8):
        file_application(owner, enterprise, version)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("portal:applications"))
    assert len(response.context["page"]) == 10


def test_steps_close_when_the_procedure_moves_on(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau, co_review=2))
    accept(bureau, application)
    review_all(bureau, application)
    open_steps = Step.objects.filter(application=application, closed_at__isnull=True)
    assert [s.kind for s in open_steps] == ["decide"]
