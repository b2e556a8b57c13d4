"""Materials join an application only while the rule allows it, decided under the row lock; the
supplement answer carries exactly what the notice asked for."""

import uuid

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from approvals.applications import services
from approvals.models import Application, ApplicationMaterial
from core.exceptions import DomainError
from tests.workflows.conftest import PDF, claim_and, file_application, make_item, new_draft, only_task
from web.portal import forms as wf_forms
from workflows.actions import applications as actions

pytestmark = pytest.mark.django_db


def _supplement(bureau, owner, enterprise, *, other: str = ""):
    version = make_item(bureau)
    application = file_application(owner, enterprise, version)
    task = claim_and(bureau.desk_user, only_task(application, "accept"))
    missing = version.materials.get(position=2)
    actions.accept_complete(
        actor=bureau.desk_user,
        task=task,
        decision="supplement",
        material_ids=[missing.pk],
        other=other,
        text="请一次性补正",
    )
    application.refresh_from_db()
    return version, application, application.supplements.get(), missing


def test_attach_through_a_stale_draft_instance_is_refused_after_submission(bureau, owner, enterprise):
    # Given a draft instance read before another request submitted it
    version = make_item(bureau)
    kept = new_draft(owner, enterprise, version)
    actions.application_submit_and_start(actor=owner, application=Application.objects.get(pk=kept.pk))
    assert kept.status == Application.Status.DRAFT  # the kept instance is stale
    before = ApplicationMaterial.objects.filter(application=kept).count()

    # When a file is attached through it
    with pytest.raises(DomainError) as excinfo:
        services.application_material_attach(
            actor=owner,
            application=kept,
            required_material_id=version.materials.get(position=2).pk,
            upload=ContentFile(PDF, name="迟到.pdf"),
        )

    # Then it is refused and nothing is stored
    assert excinfo.value.code == "application_not_draft"
    assert ApplicationMaterial.objects.filter(application=kept).count() == before


def test_attach_with_a_supplement_notice_outside_its_answer_is_refused(bureau, owner, enterprise):
    version, application, notice, missing = _supplement(bureau, owner, enterprise)
    with pytest.raises(DomainError) as excinfo:
        services.application_material_attach(
            actor=owner,
            application=application,
            required_material_id=missing.pk,
            upload=ContentFile(PDF, name="平面图.pdf"),
            supplement=notice,  # not answered: only the answer itself may add files
        )
    assert excinfo.value.code == "application_not_draft"
    assert not ApplicationMaterial.objects.filter(application=application, supplement=notice).exists()


def test_losing_the_draft_key_race_applies_its_data(bureau, owner, enterprise, monkeypatch):
    # Given the other request created the draft between our look-up and our insert
    version = make_item(bureau)
    key = uuid.uuid4()
    first = services.application_draft_save(
        actor=owner,
        enterprise_id=enterprise.pk,
        item_version_id=version.pk,
        form_data={"project_name": "第一次"},
        idempotency_key=key,
    )
    real_filter = Application.objects.select_for_update

    class MissOnce:
        calls = 0

    def select_for_update_missing_once():  # the look-up ran before the other insert committed
        MissOnce.calls += 1
        qs = real_filter()
        return qs.none() if MissOnce.calls == 1 else qs

    monkeypatch.setattr(Application.objects, "select_for_update", select_for_update_missing_once)

    # When our save's insert then fails on the unique key
    saved = services.application_draft_save(
        actor=owner,
        enterprise_id=enterprise.pk,
        item_version_id=version.pk,
        form_data={"project_name": "第二次"},
        idempotency_key=key,
    )

    # Then our data is applied to the one draft, not dropped
    assert saved.pk == first.pk
    first.refresh_from_db()
    assert first.form_data == {"project_name": "第二次"}
    assert Application.objects.filter(applicant=owner, idempotency_key=key).count() == 1


def test_answer_form_has_one_required_slot_per_listed_material(bureau, owner, enterprise):
    version, application, notice, missing = _supplement(bureau, owner, enterprise, other="安全生产许可证复印件")
    form = wf_forms.SupplementAnswerForm(notice=notice)
    slots = [name for name in form.fields if name != "answer"]
    assert slots == [f"material_{missing.pk}", "other_1"]
    assert form.fields[f"material_{missing.pk}"].required is True
    assert form.fields["other_1"].required is False
    assert form.fields[f"material_{missing.pk}"].label == missing.name


def test_answer_without_the_listed_material_is_refused(bureau, owner, enterprise):
    version, application, notice, missing = _supplement(bureau, owner, enterprise)
    with pytest.raises(DomainError) as excinfo:
        actions.supplement_answer_and_route(
            actor=owner, application=application, notice=notice, answer="稍后补", uploads=[]
        )
    assert excinfo.value.code == "supplement_material_missing"
    notice.refresh_from_db()
    assert notice.answered_at is None


def test_answer_with_a_material_not_listed_is_refused(bureau, owner, enterprise):
    version, application, notice, missing = _supplement(bureau, owner, enterprise)
    other_material = version.materials.get(position=1)
    with pytest.raises(DomainError) as excinfo:
        actions.supplement_answer_and_route(
            actor=owner,
            application=application,
            notice=notice,
            answer="",
            uploads=[(missing.pk, ContentFile(PDF, name="a.pdf")), (other_material.pk, ContentFile(PDF, name="b.pdf"))],
        )
    assert excinfo.value.code == "material_not_requested"
    assert not ApplicationMaterial.objects.filter(supplement=notice).exists()


def test_portal_answer_missing_a_slot_shows_the_form_again_and_writes_nothing(client, bureau, owner, enterprise):
    version, application, notice, missing = _supplement(bureau, owner, enterprise, other="安全生产许可证复印件")
    client.force_login(owner)
    page = client.get(reverse("portal:application", args=[application.pk]))
    assert page.status_code == 200
    assert f'name="material_{missing.pk}"' in page.content.decode()

    response = client.post(reverse("portal:supplement_answer", args=[application.pk, notice.pk]), {"answer": ""})

    assert response.status_code == 400
    form = response.context["answer_form"]
    assert form.has_error(f"material_{missing.pk}", "required")
    assert form.has_error("answer", "required")
    notice.refresh_from_db()
    assert notice.answered_at is None


def test_portal_answer_with_every_slot_goes_back_to_the_window(client, bureau, owner, enterprise):
    version, application, notice, missing = _supplement(bureau, owner, enterprise, other="安全生产许可证复印件")
    client.force_login(owner)
    response = client.post(
        reverse("portal:supplement_answer", args=[application.pk, notice.pk]),
        {
            "answer": "",
            f"material_{missing.pk}": ContentFile(PDF, name="平面图.pdf"),
            "other_1": ContentFile(PDF, name="许可证.pdf"),
        },
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    stored = ApplicationMaterial.objects.filter(supplement=notice)
    assert sorted((m.required_material_id or 0) for m in stored) == sorted([missing.pk, 0])
