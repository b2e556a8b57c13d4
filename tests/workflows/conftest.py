"""A small bureau for flow tests: a window, a lead department, three co-review departments, staff
for each, a published item factory, and helpers that file an application."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import pytest
from django.core.files.base import ContentFile

from approvals.applications import services
from approvals.catalogue import services as catalogue
from approvals.models import ApprovalItemVersion, Department
from approvals.organisation.roles import StaffRole
from core.models import User
from core.uploads import minimal_pdf
from tests import factories
from workflows.actions import applications as actions

PDF = minimal_pdf()


@dataclass
class Bureau:
    desk: Department
    lead: Department
    co: list[Department]
    desk_user: User
    decider: User
    reviewers: dict[int, User] = field(default_factory=dict)


publish_calendar = factories.calendar_published


@pytest.fixture
def bureau(db) -> Bureau:  # type: ignore[no-untyped-def]
    publish_calendar()
    desk = factories.department("综合受理窗口")
    lead = factories.department("市场准入审批处")
    co = [factories.department(f"会审处{i}") for i in range(3)]
    result = Bureau(
        desk=desk,
        lead=lead,
        co=co,
        desk_user=factories.staff_with_role(StaffRole.DESK, department=desk),
        decider=factories.staff_with_role(StaffRole.DECIDER, department=lead),
    )
    for department in co:
        result.reviewers[department.pk] = factories.staff_with_role(StaffRole.REVIEWER, department=department)
    return result


def make_item(bureau: Bureau, *, co_review: int = 2, code: str | None = None, **overrides) -> ApprovalItemVersion:  # type: ignore[no-untyped-def]
    fields = {
        "name": "食品经营许可",
        "legal_basis": "《中华人民共和国食品安全法》第三十五条",
        "lead_department": bureau.lead,
        "desk_department": bureau.desk,
        "statutory_limit_days": 20,
        "promised_limit_days": 10,
        "review_limit_days": 5,
        "max_extension_days": 10,
        "certificate_name": "食品经营许可证",
        "certificate_validity_months": 60,
    }
    fields.update(overrides)
    version = catalogue.item_draft_create(
        actor=None,
        code=code or f"IT{ApprovalItemVersion.objects.count() + 1:04d}",
        co_review_departments=bureau.co[:co_review],
        materials=[
            {"name": "申请书", "mandatory": True, "may_be_missing": False},
            {"name": "场所平面图", "mandatory": True, "may_be_missing": True},
        ],
        **fields,
    )
    return catalogue.item_version_publish(actor=None, version=version)


def new_draft(owner: User, enterprise, version: ApprovalItemVersion, *, with_material: bool = True):  # type: ignore[no-untyped-def]
    import uuid

    draft = services.application_draft_save(
        actor=owner,
        enterprise_id=enterprise.pk,
        item_version_id=version.pk,
        form_data={"project_name": "测试项目"},
        idempotency_key=uuid.uuid4(),
    )
    if with_material:
        services.application_material_attach(
            actor=owner,
            application=draft,
            required_material_id=version.materials.get(position=1).pk,
            upload=ContentFile(PDF, name="申请书.pdf"),
        )
    return draft


def file_application(owner, enterprise, version):  # type: ignore[no-untyped-def]
    return actions.application_submit_and_start(actor=owner, application=new_draft(owner, enterprise, version))


def only_task(application, node_name: str | None = None):  # type: ignore[no-untyped-def]
    tasks = actions.open_tasks(application)
    if node_name is not None:
        tasks = [t for t in tasks if t.flow_task.name == node_name]
    assert len(tasks) == 1, tasks
    return tasks[0]


def claim_and(actor, task):  # type: ignore[no-untyped-def]
    actions.task_claim(actor=actor, task=task)
    task.refresh_from_db()
    return task


def accept(bureau: Bureau, application):  # type: ignore[no-untyped-def]
    task = claim_and(bureau.desk_user, only_task(application, "accept"))
    actions.accept_complete(actor=bureau.desk_user, task=task, decision="accept")
    application.refresh_from_db()


def review_all(bureau: Bureau, application, outcome="agree", reasons=""):  # type: ignore[no-untyped-def]
    for task in [t for t in actions.open_tasks(application) if t.flow_task.name == "review"]:
        reviewer = bureau.reviewers[int(task.owner_permission_obj_pk)]
        claim_and(reviewer, task)
        actions.review_complete(actor=reviewer, task=task, outcome=outcome, reasons=reasons)
    application.refresh_from_db()


def yesterday() -> datetime.date:
    return datetime.date.today() - datetime.timedelta(days=1)
