"""Demo commitment cases (告知承诺) in every outcome: pending verification, passed, rectifying,
rectified, revoked for a false commitment, and a refused attempt (grade too low) whose eligibility
decision is on record. Runs after ``seed_credit_demo`` (grades matter). Idempotent."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from typing import Any

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.utils import timezone

from approvals.applications import services as application_services
from approvals.models import Application, ApprovalItemVersion, InspectionTask, RectificationOrder
from approvals.supervision import selectors as supervision_selectors
from approvals.supervision import services as supervision
from core.exceptions import DomainError
from credit.models import Enterprise
from workflows.actions import supervision as supervision_actions
from workflows.management.commands.seed_demo_cases import PDF, user
from workflows.management.demo_cases import cases_play

NAMESPACE = uuid.UUID("6f1d1c1e-5b1a-4c55-9d8e-0c0ffee00005")
ITEM = "SC-101"


class Command(BaseCommand):
    help = "Play demo commitment cases through the CommitmentApprovalFlow (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not ApprovalItemVersion.objects.filter(item__code=ITEM, status="published").exists():
            self.stdout.write(f"[commitments] item {ITEM} not published: skipped")
            return
        cases: list[tuple[str, Callable[[uuid.UUID], None]]] = [
            ("pending", self.case_pending),
            ("passed", self.case_passed),
            ("rectifying", self.case_rectifying),
            ("rectified", self.case_rectified),
            ("revoked", self.case_revoked),
            ("refused", self.case_refused),
        ]
        created = cases_play(cases, namespace=NAMESPACE, label="commitment case", stderr=self.stderr)
        self.stdout.write(f"[commitments] demo commitment cases: {created} created")

    # --- building blocks ----------------------------------------------------------------------

    def draft(self, key: uuid.UUID, username: str, enterprise_name: str) -> Application:
        applicant = user(username)
        version = ApprovalItemVersion.objects.get(item__code=ITEM, status="published")
        application = application_services.application_draft_save(
            actor=applicant,
            enterprise_id=Enterprise.objects.get(name=enterprise_name).pk,
            item_version_id=version.pk,
            form_data={
                "project_name": f"{enterprise_name}食品小作坊",
                "project_address": "沈阳市沈河区小南街 18 号",
                "description": "演示数据：以告知承诺方式申请登记。",
                "contact_name": applicant.display_name,
                "contact_phone": applicant.phone or "024-12345678",
            },
            idempotency_key=key,
        )
        for material in version.materials.filter(replaced_by_commitment=False):
            application_services.application_material_attach(
                actor=applicant,
                application=application,
                required_material_id=material.pk,
                upload=ContentFile(PDF, name=f"{material.name}.pdf"),
            )
        return application

    def commit(self, key: uuid.UUID, username: str, enterprise_name: str) -> InspectionTask:
        application = self.draft(key, username, enterprise_name)
        text = supervision.commitment_notice_text(application=application)
        supervision_actions.commitment_sign_and_start(
            actor=user(username),
            application=application,
            signer_name=application.enterprise.legal_representative,
            confirmed=True,
            shown_sha256=supervision.notice_sha256(text),
        )
        return InspectionTask.objects.get(application=application)

    def inspect(self, task: InspectionTask, result: str, findings: str, **fields: Any) -> None:
        task.refresh_from_db()
        supervision_actions.inspection_record_and_route(
            actor=task.inspector_1,
            task=task,
            inspected_on=timezone.localdate(),
            checklist=dict.fromkeys(supervision_selectors.checklist_of(task), "ok" if result == "pass" else "not_ok"),
            findings=findings,
            result=result,
            **fields,
        )

    # --- the cases ----------------------------------------------------------------------------

    def case_pending(self, key: uuid.UUID) -> None:
        self.commit(key, "ent_lijing", "沈阳浑南云数科技有限公司")

    def case_passed(self, key: uuid.UUID) -> None:
        task = self.commit(key, "ent_zhangwei", "沈阳北方智能装备有限公司")
        self.inspect(task, "pass", "现场核查：场所、人员与承诺一致。")

    def case_rectifying(self, key: uuid.UUID) -> None:
        task = self.commit(key, "ent_zhangwei", "沈阳北方智能装备有限公司")
        self.inspect(
            task,
            "rectify",
            "一名从业人员健康证明过期。",
            rectification_requirements="为该从业人员补办健康证明，并上传复印件。",
            rectification_deadline=timezone.localdate() + datetime.timedelta(days=10),
        )

    def case_rectified(self, key: uuid.UUID) -> None:
        task = self.commit(key, "ent_chenchen", "沈阳东陵生态环保科技有限公司")
        self.inspect(
            task,
            "rectify",
            "原料库房未与加工区分隔。",
            rectification_requirements="设置物理隔断，将原料库房与加工区分开。",
            rectification_deadline=timezone.localdate() + datetime.timedelta(days=7),
        )
        order = RectificationOrder.objects.get(task=task)
        supervision.rectification_report(actor=user("ent_chenchen"), order=order, report="已加装隔断，见照片。")
        self.inspect(task, "pass", "复查：隔断已设置，整改到位。")

    def case_revoked(self, key: uuid.UUID) -> None:
        # 东陵生态 (grade A before) falls to D; the demo keeps a B (浑南云数) for the credit screens.
        task = self.commit(key, "ent_chenchen", "沈阳东陵生态环保科技有限公司")
        self.inspect(task, "false_commitment", "现场核查：登记地址无生产加工场所，承诺不实。")

    def case_refused(self, key: uuid.UUID) -> None:
        application = self.draft(key, "ent_liufang", "沈阳新松食品有限公司")
        try:
            supervision_actions.commitment_sign_and_start(
                actor=user("ent_liufang"),
                application=application,
                signer_name=application.enterprise.legal_representative,
                confirmed=True,
                shown_sha256=supervision.notice_sha256(supervision.commitment_notice_text(application=application)),
            )
        except DomainError as error:
            if error.code != "commitment_not_eligible":
                raise
