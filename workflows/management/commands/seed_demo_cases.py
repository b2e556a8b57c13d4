"""Demo applications in every state, run through the real flow (called by ``seed_demo``).

Each case is played through the same actions the screens use, at the past days it would have
happened (the clock is set back while a case is played), so deadlines, bands and timers are real:
drafts, submitted, awaiting 补正, in review with some departments done, suspended for expert
review, extended, overdue, due soon, refused, approved with certificate, revoked, withdrawn, not
accepted, and one the window left unanswered (the timer dispatcher deems it accepted).
Idempotent: each case has a fixed idempotency key and is skipped when it exists.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.utils import timezone

from approvals.applications import services
from approvals.models import Application, ApprovalItemVersion, Certificate, ClockEvent
from core.models import User
from core.uploads import minimal_pdf
from credit.models import Enterprise
from workflows.actions import applications as actions
from workflows.management.demo_cases import cases_play

NAMESPACE = uuid.UUID("6f1d3c52-9a57-4a4e-9f51-2f6c0d0f5a10")
PDF = minimal_pdf()
REVIEWERS = {
    "SY-SPJ-SC": "rev_sc",
    "SY-SPJ-JS": "rev_js",
    "SY-SPJ-HB": "rev_hb",
    "SY-SPJ-XF": "rev_xf",
    "SY-SPJ-GH": "rev_gh",
    "SY-SPJ-WJ": "rev_wj",
}
DECIDERS = {code: code.replace("SY-SPJ-", "dec_").lower() for code in REVIEWERS}


@contextmanager
def days_ago(days: int) -> Iterator[None]:
    """Play what follows as if it were ``days`` calendar days ago, 10:00 Asia/Shanghai."""
    local = timezone.localtime()
    moment = (local - datetime.timedelta(days=days)).replace(hour=10, minute=0, second=0, microsecond=0)
    if days <= 0:
        yield
        return
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def user(username: str) -> User:
    return User.objects.get(username=username)


def enterprise(name: str) -> Enterprise:
    return Enterprise.objects.get(name=name)


class Command(BaseCommand):
    help = "Play the demo applications through the standard approval flow (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        cases: list[tuple[str, Callable[[uuid.UUID], None]]] = [
            ("draft", self.case_draft),
            ("submitted", self.case_submitted),
            ("window_silent", self.case_window_silent),
            ("supplement", self.case_supplement),
            ("in_review_partial", self.case_in_review_partial),
            ("suspended", self.case_suspended),
            ("provisional", self.case_provisional),
            ("extended", self.case_extended),
            ("due_soon", self.case_due_soon),
            ("overdue", self.case_overdue),
            ("refused", self.case_refused),
            ("approved", self.case_approved),
            ("approved_agency", self.case_approved_agency),
            ("revoked", self.case_revoked),
            ("withdrawn", self.case_withdrawn),
            ("not_accepted", self.case_not_accepted),
        ]
        created = cases_play(cases, namespace=NAMESPACE, label="case", stderr=self.stderr)
        self.stdout.write(f"[cases] demo applications: {created} created")

    # --- building blocks ----------------------------------------------------------------------

    def draft(
        self, key: uuid.UUID, username: str, enterprise_name: str, code: str, *, all_materials: bool = True
    ) -> Application:
        applicant = user(username)
        version = ApprovalItemVersion.objects.get(item__code=code, status=ApprovalItemVersion.Status.PUBLISHED)
        application = services.application_draft_save(
            actor=applicant,
            enterprise_id=enterprise(enterprise_name).pk,
            item_version_id=version.pk,
            form_data={
                "project_name": f"{enterprise_name}{version.name}项目",
                "project_address": "沈阳市浑南区创新路 100 号",
                "description": "演示数据：新建项目，按清单要求提交材料。",
                "contact_name": applicant.display_name,
                "contact_phone": applicant.phone or "024-12345678",
            },
            idempotency_key=key,
        )
        for material in version.materials.all():
            if all_materials or (material.mandatory and not material.may_be_missing):
                services.application_material_attach(
                    actor=applicant,
                    application=application,
                    required_material_id=material.pk,
                    upload=ContentFile(PDF, name=f"{material.name}.pdf"),
                )
        return application

    def file(self, key: uuid.UUID, username: str, enterprise_name: str, code: str, **kwargs: Any) -> Application:
        application = self.draft(key, username, enterprise_name, code, **kwargs)
        return actions.application_submit_and_start(actor=user(username), application=application)

    def task(self, application: Application, node: str, department_code: str | None = None) -> Any:
        for task in actions.open_tasks(application):
            if task.flow_task.name == node and (
                department_code is None or actions.task_department(task).code == department_code
            ):
                return task
        raise LookupError(f"no open {node} task for {application.reference}")

    def task_list(self, application: Application, node: str) -> list[str]:
        """The departments (codes) with an open ``node`` task on ``application``."""
        return [
            actions.task_department(task).code
            for task in actions.open_tasks(application)
            if task.flow_task.name == node
        ]

    def accept(self, application: Application) -> None:
        desk = user("desk1")
        task = self.task(application, "accept")
        actions.task_claim(actor=desk, task=task)
        actions.accept_complete(actor=desk, task=task, decision="accept", text="材料齐全，予以受理")

    def review(self, application: Application, department_code: str, outcome: str = "agree", reasons: str = "") -> None:
        reviewer = user(REVIEWERS[department_code])
        task = self.task(application, "review", department_code)
        actions.task_claim(actor=reviewer, task=task)
        actions.review_complete(actor=reviewer, task=task, outcome=outcome, reasons=reasons or "符合要求")

    def decide(self, application: Application, outcome: str = "approved", reasons: str = "") -> None:
        application.refresh_from_db()
        decider = user(DECIDERS[application.item_version.lead_department.code])
        task = self.task(application, "decide")
        actions.task_claim(actor=decider, task=task)
        actions.decide_complete(actor=decider, task=task, outcome=outcome, reasons=reasons)

    # --- the cases ----------------------------------------------------------------------------

    def case_draft(self, key: uuid.UUID) -> None:
        self.draft(key, "ent_liufang", "沈阳新松食品有限公司", "SC-001", all_materials=False)

    def case_submitted(self, key: uuid.UUID) -> None:
        self.file(key, "ent_liufang", "沈阳新松食品有限公司", "SC-002")

    def case_window_silent(self, key: uuid.UUID) -> None:
        with days_ago(12):
            self.file(key, "ent_zhangwei", "沈阳北方智能装备有限公司", "GH-001")

    def case_supplement(self, key: uuid.UUID) -> None:
        with days_ago(3):
            application = self.file(key, "ent_wangjg", "辽宁盛京建设工程有限公司", "JS-001")
        with days_ago(2):
            desk = user("desk1")
            task = self.task(application, "accept")
            actions.task_claim(actor=desk, task=task)
            contract = application.item_version.materials.get(name="施工合同")
            actions.accept_complete(
                actor=desk,
                task=task,
                decision="supplement",
                material_ids=[contract.pk],
                other="施工单位安全生产许可证复印件",
                text="施工合同缺少签章页，请一次性补正以下材料。",
            )

    def case_in_review_partial(self, key: uuid.UUID) -> None:
        with days_ago(4):
            application = self.file(key, "ent_wangjg", "辽宁盛京建设工程有限公司", "JS-001")
        with days_ago(3):
            self.accept(application)
        with days_ago(1):
            self.review(application, "SY-SPJ-GH")
            self.review(application, "SY-SPJ-HB")

    def case_suspended(self, key: uuid.UUID) -> None:
        with days_ago(10):
            application = self.file(key, "ent_chenchen", "沈阳东陵生态环保科技有限公司", "HB-002")
        with days_ago(9):
            self.accept(application)
        with days_ago(5):
            application.refresh_from_db()
            services.application_suspend(
                expected_days=10,
                actor=user("dec_hb"),
                application=application,
                department=application.item_version.lead_department,
                reason=ClockEvent.Reason.EXPERT_REVIEW,
                comment="组织专家对环境影响报告书进行技术评估",
            )

    def case_provisional(self, key: uuid.UUID) -> None:
        """A 30-working-day limit from today reaches into a year the calendar may not cover yet."""
        with days_ago(1):
            application = self.file(key, "ent_chenchen", "沈阳东陵生态环保科技有限公司", "HB-002")
        self.accept(application)

    def case_extended(self, key: uuid.UUID) -> None:
        with days_ago(30):
            application = self.file(key, "ent_lijing", "沈阳浑南云数科技有限公司", "WJ-002")
        with days_ago(29):
            self.accept(application)
        with days_ago(22):
            self.review(application, "SY-SPJ-XF")
        with days_ago(3):
            application.refresh_from_db()
            request = services.application_extension_request(
                actor=user("dec_wj"),
                application=application,
                days=10,
                reason="需现场核查医务人员执业资格，申请延长十个工作日",
            )
            services.application_extension_decide(
                actor=user("head1"), request=request, approve=True, comment="同意延长十个工作日"
            )

    def case_due_soon(self, key: uuid.UUID) -> None:
        with days_ago(14):
            application = self.file(key, "ent_zhangwei", "沈阳北方智能装备有限公司", "SC-001")
        with days_ago(13):
            self.accept(application)
        with days_ago(10):
            self.review(application, "SY-SPJ-WJ")

    def case_overdue(self, key: uuid.UUID) -> None:
        with days_ago(40):
            application = self.file(key, "ent_chenchen", "沈阳东陵生态环保科技有限公司", "HB-001")
        with days_ago(39):
            self.accept(application)
        with days_ago(35):
            self.review(application, "SY-SPJ-GH")

    def case_refused(self, key: uuid.UUID) -> None:
        with days_ago(15):
            application = self.file(key, "ent_zhangwei", "沈阳北方智能装备有限公司", "WJ-001")
        with days_ago(14):
            self.accept(application)
        with days_ago(6):
            self.decide(
                application,
                "refused",
                "卫生检测报告显示集中空调通风系统不合格，不符合《公共场所卫生管理条例》第三条要求。",
            )

    def case_approved(self, key: uuid.UUID) -> None:
        with days_ago(21):
            application = self.file(key, "ent_lijing", "沈阳浑南云数科技有限公司", "SC-001")
        with days_ago(20):
            self.accept(application)
        with days_ago(17):
            self.review(application, "SY-SPJ-WJ")
        with days_ago(15):
            self.decide(application)

    def case_approved_agency(self, key: uuid.UUID) -> None:
        with days_ago(9):
            application = self.file(key, "ent_agency", "沈阳新松食品有限公司", "WJ-001")
        with days_ago(8):
            self.accept(application)
        with days_ago(4):
            self.decide(application)

    def case_revoked(self, key: uuid.UUID) -> None:
        with days_ago(70):
            application = self.file(key, "ent_wangjg", "辽宁盛京建设工程有限公司", "XF-001")
        with days_ago(69):
            self.accept(application)
        with days_ago(66):
            self.review(application, "SY-SPJ-JS")
        with days_ago(62):
            self.decide(application)
        with days_ago(10):
            certificate = Certificate.objects.get(application=application)
            services.certificate_revoke(
                actor=user("dec_xf"),
                certificate=certificate,
                reason="现场检查发现施工与审查合格的消防设计文件不符，依法撤销。",
            )

    def case_withdrawn(self, key: uuid.UUID) -> None:
        with days_ago(8):
            application = self.file(key, "ent_liufang", "沈阳新松食品有限公司", "HB-001")
        with days_ago(7):
            self.accept(application)
        with days_ago(5):
            actions.application_withdraw_and_cancel(
                actor=user("ent_liufang"), application=application, reason="项目选址调整，撤回申请"
            )

    def case_not_accepted(self, key: uuid.UUID) -> None:
        with days_ago(6):
            application = self.file(key, "ent_chenchen", "沈阳东陵生态环保科技有限公司", "SC-002")
        with days_ago(5):
            desk = user("desk1")
            task = self.task(application, "accept")
            actions.task_claim(actor=desk, task=task)
            actions.accept_complete(
                actor=desk,
                task=task,
                decision="not_accept",
                text="申请事项不属于本机关职权范围，请向省药品监督管理部门申请。",
            )
