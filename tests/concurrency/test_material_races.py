"""Drafts and their materials under real concurrency (PostgreSQL)."""

import uuid

import pytest
from django.core.files.base import ContentFile

from approvals.applications import services
from approvals.models import Application, ApplicationMaterial
from core.exceptions import DomainError
from tests.concurrency.conftest import run_concurrently
from tests.workflows.conftest import PDF, make_item, new_draft
from workflows.actions import applications as actions

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_twenty_saves_of_one_draft_key_make_one_draft_and_keep_a_saved_version(bureau, owner, enterprise):
    version = make_item(bureau)
    key = uuid.uuid4()

    results = run_concurrently(
        *[
            lambda n=n: services.application_draft_save(
                actor=owner,
                enterprise_id=enterprise.pk,
                item_version_id=version.pk,
                form_data={"project_name": f"版本{n}"},
                idempotency_key=key,
            )
            for n in range(20)
        ]
    )

    assert not [r for r in results if isinstance(r, Exception)]
    drafts = Application.objects.filter(applicant=owner, idempotency_key=key)
    assert drafts.count() == 1
    assert {r.pk for r in results} == {drafts.get().pk}
    assert drafts.get().form_data["project_name"] in {f"版本{n}" for n in range(20)}


def test_attaching_while_another_request_submits_never_adds_to_a_submitted_application(bureau, owner, enterprise):
    version = make_item(bureau)
    for _round in range(5):
        kept = new_draft(owner, enterprise, version)
        required = version.materials.get(position=2).pk

        results = run_concurrently(
            lambda: actions.application_submit_and_start(actor=owner, application=Application.objects.get(pk=kept.pk)),
            *[
                lambda: services.application_material_attach(
                    actor=owner, application=kept, required_material_id=required, upload=ContentFile(PDF, name="x.pdf")
                )
                for _ in range(5)
            ],
        )

        kept.refresh_from_db()
        attached = [r for r in results[1:] if isinstance(r, ApplicationMaterial)]
        refused = [r for r in results[1:] if isinstance(r, Exception)]
        # Every attach either stored its file before the submission took the row, or was refused
        # with the draft rule; none was lost, none stored after.
        assert all(isinstance(e, DomainError) and e.code == "application_not_draft" for e in refused)
        assert len(attached) + len(refused) == 5
        assert ApplicationMaterial.objects.filter(application=kept).count() == 1 + len(attached)
        if refused:
            assert kept.status != Application.Status.DRAFT
