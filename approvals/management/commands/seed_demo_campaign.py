"""Demo random-inspection campaign (双随机一公开): one campaign over the demo certificate holders,
frozen, drawn with a public seed, and inspection results recorded for its tasks, so that the public
page shows hashes, seed, sample and results.

Run after ``seed_demo`` has created the departments, inspectors (insp1 and insp2 inspect for the
market-access department), certificates and the credit history (the grades frozen are the current
ones). Idempotent: each step looks at the campaign's state and does only what is missing; a second
run changes nothing and says so.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from approvals.models import ApprovalItem, Campaign, Department, InspectionTask
from approvals.supervision import campaigns
from approvals.supervision import selectors as supervision_selectors
from approvals.supervision import services as supervision
from core.exceptions import DomainError
from core.models import User

CODE = "SJ-2026-01"
NAME = "2026年度市场主体“双随机、一公开”抽查（第一批）"
DEPARTMENT = "SY-SPJ-SC"
ORGANISER = "dec_sc"
SEED = "双色球第2026088期开奖号码 03 09 14 22 27 31 + 12"
SEED_SOURCE = "中国福利彩票双色球第2026088期开奖公告（中国福利彩票发行管理中心网站）"
RATIOS = {"A": "0.02", "B": "0.05", "C": "1", "D": "1"}

# What the inspectors find, task by task in draw order; later tasks stay open.
RESULTS: list[dict[str, Any]] = [
    {
        "result": "pass",
        "findings": "经营场所、许可证照与登记信息一致，现场检查未发现问题。",
    },
    {
        "result": "rectify",
        "findings": "原料进货查验记录不完整，部分批次缺少供货商资质证明。",
        "rectification_requirements": "补齐近三个月原料进货查验记录及供货商资质证明，建立进货台账。",
        "deadline_days": 15,
    },
]


class Command(BaseCommand):
    help = "Create, freeze and draw the demo random-inspection campaign and record results (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        changed = 0
        steps = [
            ("campaign", self.step_create),
            ("freeze", self.step_freeze),
            ("seed and draw", self.step_draw),
            ("inspection results", self.step_results),
        ]
        for number, (label, step) in enumerate(steps, start=1):
            done = step()
            changed += done
            self.stdout.write(f"[campaign {number}/{len(steps)}] {label}: {done} created")
        if changed == 0:
            self.stdout.write(self.style.SUCCESS(f"Demo campaign {CODE} already present: nothing changed."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Demo campaign {CODE} ready: /inspections/{CODE}/"))

    def _organiser(self) -> User:
        organiser = User.objects.filter(username=ORGANISER).first()
        if organiser is None:
            raise CommandError(f"User {ORGANISER} is missing: run seed_demo first.")
        return organiser

    def _campaign(self) -> Campaign:
        return Campaign.objects.get(code=CODE)

    def step_create(self) -> int:
        if Campaign.objects.filter(code=CODE).exists():
            return 0
        department = Department.objects.filter(code=DEPARTMENT).first()
        if department is None:
            raise CommandError(f"Department {DEPARTMENT} is missing: run seed_demo first.")
        items = list(ApprovalItem.objects.order_by("code"))
        try:
            campaigns.campaign_create(
                actor=self._organiser(),
                code=CODE,
                name=NAME,
                department=department,
                items=items,
                ratios=RATIOS,
                inspection_due_on=timezone.localdate() + datetime.timedelta(days=30),
            )
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        return 1

    def step_freeze(self) -> int:
        campaign = self._campaign()
        if campaign.status != Campaign.Status.DRAFT:
            return 0
        try:
            campaign = campaigns.campaign_freeze(actor=self._organiser(), campaign=campaign)
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        self.stderr.write(
            f"  rosters frozen: targets {campaign.targets_sha256[:16]}…, inspectors {campaign.inspectors_sha256[:16]}…"
        )
        return 1

    def step_draw(self) -> int:
        campaign = self._campaign()
        if campaign.status != Campaign.Status.FROZEN:
            return 0
        try:
            campaigns.campaign_draw(actor=self._organiser(), campaign=campaign, seed=SEED, seed_source=SEED_SOURCE)
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        self.stderr.write(f"  drawn: {campaign.inspection_tasks.count()} inspection task(s)")
        return 1

    def step_results(self) -> int:
        campaign = self._campaign()
        if campaign.status != Campaign.Status.DRAWN:
            return 0
        created = 0
        tasks = list(
            InspectionTask.objects.filter(campaign=campaign)
            .select_related("inspector_1", "enterprise", "department")
            .order_by("draw_position")
        )
        for task, plan in zip(tasks, RESULTS, strict=False):
            if task.inspections.exists():
                continue
            today = timezone.localdate()
            lines = supervision_selectors.checklist_of(task)
            answers = dict.fromkeys(lines, "ok")
            if plan["result"] == "rectify" and lines:
                answers[lines[-1]] = "not_ok"
            deadline = today + datetime.timedelta(days=plan["deadline_days"]) if "deadline_days" in plan else None
            try:
                with transaction.atomic():
                    supervision.inspection_record(
                        actor=task.inspector_1,
                        task=task,
                        inspected_on=today,
                        checklist=answers,
                        findings=plan["findings"],
                        result=plan["result"],
                        rectification_requirements=plan.get("rectification_requirements", ""),
                        rectification_deadline=deadline,
                    )
            except DomainError as error:
                raise CommandError(f"{task.enterprise.uscc}: {error.code}: {error.message}") from None
            self.stderr.write(f"  {task.enterprise.name}: {plan['result']}")
            created += 1
        return created
