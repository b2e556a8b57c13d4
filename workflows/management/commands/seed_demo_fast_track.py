"""Demo fast track (issue 6, item 6): one published fast-track credit policy for the food business
licence (SC-001), and two applications of 北方智能装备 (grade A) filed without the 容缺 material
through the standard flow: one waiting at the window (its accept step shows the material as missing,
to be supplied later), one accepted (its deadline counts the shortened promised limit).

Runs after ``seed_credit_demo`` (eligibility reads the grades). Idempotent: the policy is looked up
by its code and each application by its fixed idempotency key.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from approvals.applications import services as application_services
from approvals.models import Application, ApprovalItemVersion
from core.models import User
from core.uploads import minimal_pdf
from credit.models import Enterprise
from credit.policies import services as policy_services
from credit.policies.models import Policy, PolicyVersionStatus
from workflows.actions import applications as actions

NAMESPACE = uuid.UUID("6f1d3c52-9a57-4a4e-9f51-2f6c0d0f5a16")
PDF = minimal_pdf()
ITEM = "SC-001"
POLICY_CODE = "ft-sc-001"
APPLICANT = "ent_zhangwei"
ENTERPRISE = "沈阳北方智能装备有限公司"
DESK = "desk1"

POLICY = {
    "code": POLICY_CODE,
    "name": "守信企业食品经营许可容缺快办",
    "name_en": "Fast track for trustworthy food businesses (容缺受理, shorter promised limit)",
    "kind": "fast_track",
    "legal_basis": (
        "《国务院关于建立完善守信联合激励和失信联合惩戒制度加快推进社会诚信建设的指导意见》"
        "（国发〔2016〕33号）“绿色通道”“容缺受理”"
    ),
    "description": (
        "信用等级 B 级及以上、三年内无严重失信记录、无逾期未整改和失信被执行人记录的企业，"
        "申请食品经营许可时可容缺受理经营场所平面布局图（受理后补交），承诺时限缩短 5 个工作日。"
    ),
    "conditions": [
        {"type": "min_grade", "grade": "B"},
        {"type": "no_serious_within_years", "years": 3},
        {"type": "no_rectification_overdue"},
        {"type": "no_court_dishonest_debtor"},
        {"type": "no_false_commitment_unrepaired"},
    ],
    "benefits": {
        "item_codes": [ITEM],
        "privileges": {"promised_days_reduction": 5, "allow_missing_secondary": True},
    },
}


class Command(BaseCommand):
    help = "Publish the demo fast-track policy and file fast-tracked demo applications (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        version = ApprovalItemVersion.objects.filter(item__code=ITEM, status="published").first()
        if version is None or not User.objects.filter(username=APPLICANT).exists():
            self.stdout.write(f"[fast track] item {ITEM} or user {APPLICANT} missing (run seed_demo): skipped")
            return
        self.stdout.write(f"[fast track] policy {POLICY_CODE}: {self.policy()}")
        created = 0
        cases = [("at_window", False), ("accepted", True)]
        for number, (name, accept) in enumerate(cases, start=1):
            key = uuid.uuid5(NAMESPACE, name)
            if Application.objects.filter(idempotency_key=key).exists():
                continue
            with transaction.atomic():
                application = self.file(key, version)
                if accept:
                    self.accept(application)
            application.refresh_from_db()
            granted = "fast-tracked" if application.fast_track_decision_id else "NOT fast-tracked (check the grade)"
            self.stderr.write(f"  fast-track case {number}/{len(cases)}: {name}, {application.reference} {granted}")
            created += 1
        self.stdout.write(f"[fast track] demo applications: {created} created")

    def policy(self) -> str:
        policy = Policy.objects.filter(code=POLICY_CODE).first()
        if policy is not None and policy.versions.filter(status=PolicyVersionStatus.PUBLISHED).exists():
            return "already published"
        with transaction.atomic():
            if policy is None:
                policy = policy_services.policy_create(
                    actor=None, valid_from=datetime.date(timezone.localdate().year, 1, 1), **POLICY
                )
            draft = policy.versions.get(status=PolicyVersionStatus.DRAFT)
            published = policy_services.policy_version_publish(actor=None, version=draft)
        return f"version {published.number} published"

    def file(self, key: uuid.UUID, version: ApprovalItemVersion) -> Application:
        applicant = User.objects.get(username=APPLICANT)
        draft = application_services.application_draft_save(
            actor=applicant,
            enterprise_id=Enterprise.objects.get(name=ENTERPRISE).pk,
            item_version_id=version.pk,
            form_data={
                "project_name": "北方智能装备职工食堂",
                "project_address": "沈阳市浑南区创新路 100 号",
                "description": "演示数据：守信企业容缺受理，经营场所平面布局图受理后补交。",
                "contact_name": applicant.display_name,
                "contact_phone": applicant.phone or "024-12345678",
            },
            idempotency_key=key,
        )
        # Every mandatory material but the 容缺 one (经营场所平面布局图), which the privilege excuses.
        for material in version.materials.filter(mandatory=True, may_be_missing=False):
            application_services.application_material_attach(
                actor=applicant,
                application=draft,
                required_material_id=material.pk,
                upload=ContentFile(PDF, name=f"{material.name}.pdf"),
            )
        return actions.application_submit_and_start(actor=applicant, application=draft)

    def accept(self, application: Application) -> None:
        desk = User.objects.get(username=DESK)
        task = next(t for t in actions.open_tasks(application) if t.flow_task.name == "accept")
        actions.task_claim(actor=desk, task=task)
        actions.accept_complete(actor=desk, task=task, decision="accept", text="守信企业容缺受理，平面布局图受理后补交")
