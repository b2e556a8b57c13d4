"""Demo preferential policies (§35, §36, §45) and their cases, through the services and the flow:

- three published policies: a loan guarantee (贷款担保), an interest subsidy paid in instalments
  (贴息) and the differentiated wage deposit for construction projects (农民工工资保证金差异化缴存);
- applications in every state: refused at once as not eligible (沈阳新松食品, grade D), awaiting the
  policy office, granted with two disbursements, refused by the office, withdrawn;
- construction projects of 辽宁盛京建设 (grade C, wage arrears in its history) and of 沈阳北方智能装备
  (grade A: exempt), each with its deposit decision.

No fast-track policy (another command owns it). Runs after ``seed_credit_demo`` (eligibility reads
the grades). Idempotent: each object is looked up by its natural key first; a re-run changes nothing
and says so.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from core.models import User
from credit.enterprises.uscc import uscc_with_check_digit
from credit.models import Enterprise
from credit.policies import services as policy_services
from credit.policies.models import (
    ApplicationStatus,
    ConstructionProject,
    Policy,
    PolicyApplication,
    PolicyVersionStatus,
)
from workflows.actions import policies as policy_actions

# The demo enterprises of seed_demo (first 17 characters of the code).
BEIFANG = "91210100MA0XK1234"  # 沈阳北方智能装备有限公司, A
HUNNAN = "91210112MA0YB5678"  # 沈阳浑南云数科技有限公司, B
SHENGJING = "91210100MA0TJ9012"  # 辽宁盛京建设工程有限公司, C, wage arrears on record
XINSONG = "91210106MA0PQ3456"  # 沈阳新松食品有限公司, D

PLAN = "《沈阳市沈大国家自主创新示范区建设三年行动计划（2016—2018年）》"

POLICIES: list[dict[str, Any]] = [
    {
        "code": "sy-loan-guarantee",
        "name": "沈阳市守信中小企业“信用+担保”融资担保",
        "name_en": "Credit-plus-guarantee loan guarantee for creditworthy SMEs",
        "kind": "loan_guarantee",
        "legal_basis": f"{PLAN}第二十四条、第三十六条；《沈阳市关于进一步缓解中小微企业融资难融资贵问题的若干措施》",
        "description": "对信用等级B级及以上的中小企业，由市融资担保机构为其银行贷款提供担保，担保费率优惠。",
        "conditions": [
            {"type": "min_grade", "grade": "B"},
            {"type": "no_active_serious"},
            {"type": "no_false_commitment_unrepaired"},
            {"type": "no_court_dishonest_debtor"},
            {"type": "no_rectification_overdue"},
        ],
        "benefits": {"guarantee_cap": "5000000.00", "max_term_months": 36, "fee_rate": "0.005"},
    },
    {
        "code": "sy-interest-subsidy",
        "name": "沈阳市守信科技型企业贷款贴息",
        "name_en": "Loan interest subsidy for creditworthy technology enterprises",
        "kind": "interest_subsidy",
        "legal_basis": f"{PLAN}第三十六条、第四十五条；《沈阳市关于支持科技型中小企业发展的若干政策措施》",
        "description": "对信用良好的科技型企业的银行贷款按实际支付利息的50%给予贴息，按季度分期拨付。",
        "conditions": [
            {"type": "min_grade", "grade": "B"},
            {"type": "no_active_serious"},
            {"type": "no_serious_within_years", "years": 2},
            {"type": "no_false_commitment_unrepaired"},
            {"type": "no_court_dishonest_debtor"},
        ],
        "benefits": {"subsidy_rate": "0.5", "max_amount": "300000.00", "max_term_months": 24, "instalments": 4},
    },
    {
        "code": "sy-wage-deposit",
        "name": "沈阳市农民工工资保证金差异化缴存",
        "name_en": "Differentiated migrant workers' wage deposit",
        "kind": "deposit_waiver",
        "legal_basis": f"{PLAN}第三十五条；《保障农民工工资支付条例》第三十二条；《沈阳市工程建设领域农民工工资保证金差异化缴存办法》",
        "description": "施工总承包单位按信用等级差异化缴存农民工工资保证金：A级免缴，B级按30%缴存，C级按60%缴存，D级全额缴存；24个月内有拖欠工资记录的全额缴存。",
        "conditions": [{"type": "no_court_dishonest_debtor"}],
        "benefits": {
            "deposit_rates": {"A": "0", "B": "0.3", "C": "0.6", "D": "1"},
            "wage_arrears_full_within_months": 24,
        },
    },
]

# (statement that marks the case, enterprise, username, policy code, amount, months, outcome)
APPLICATIONS: list[tuple[str, str, str, str, str, int, str]] = [
    (
        "用于购置食品冷链仓储设备，申请融资担保。（演示：不符合条件，当即不予受理）",
        XINSONG,
        "ent_liufang",
        "sy-loan-guarantee",
        "1500000.00",
        24,
        "ineligible",
    ),
    (
        "云数据中心扩容项目银行贷款贴息，贷款合同号 HN-2026-0318。（演示：待政策兑现办审核）",
        HUNNAN,
        "ent_lijing",
        "sy-interest-subsidy",
        "120000.00",
        12,
        "pending",
    ),
    (
        "工业机器人生产线技术改造贷款贴息，贷款合同号 SY-BF-2026-011。（演示：已批准并拨付两期）",
        BEIFANG,
        "ent_zhangwei",
        "sy-interest-subsidy",
        "240000.00",
        24,
        "granted",
    ),
    (
        "研发中心建设流动资金贷款，申请融资担保。（演示：政策兑现办不予批准）",
        HUNNAN,
        "ent_lijing",
        "sy-loan-guarantee",
        "4800000.00",
        36,
        "refused",
    ),
    (
        "新厂房建设项目贷款担保。（演示：企业已撤回）",
        BEIFANG,
        "ent_zhangwei",
        "sy-loan-guarantee",
        "3000000.00",
        36,
        "withdrawn",
    ),
]

# (enterprise, username, project name, permit number, contract amount, wage-deposit base)
PROJECTS: list[tuple[str, str, str, str, str, str]] = [
    (
        SHENGJING,
        "ent_wangjg",
        "浑南新区科创园二期厂房建设工程",
        "210112202605120101",
        "86000000.00",
        "2580000.00",
    ),
    (
        BEIFANG,
        "ent_zhangwei",
        "北方智能装备沈北产业园研发楼工程",
        "210113202607080201",
        "42000000.00",
        "1260000.00",
    ),
]

OFFICE = "policy1"


def _enterprise(first17: str) -> Enterprise | None:
    return Enterprise.objects.filter(uscc=uscc_with_check_digit(first17)).first()


class Command(BaseCommand):
    help = "Load demo preferential policies, applications in every state and construction projects (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not User.objects.filter(username=OFFICE).exists() or _enterprise(BEIFANG) is None:
            self.stdout.write("[policies] demo users or enterprises missing (run seed_demo first): skipped")
            return
        self.created = 0
        steps: list[tuple[str, Callable[[], None]]] = [
            ("policies", self.seed_policies),
            ("policy applications", self.seed_applications),
            ("construction projects and deposit decisions", self.seed_projects),
        ]
        for number, (label, step) in enumerate(steps, start=1):
            before = self.created
            with transaction.atomic():
                step()
            self.stdout.write(f"[policies {number}/{len(steps)}] {label}: {self.created - before} created")
        if self.created == 0:
            self.stdout.write("[policies] demo policies already present: nothing changed.")
        else:
            self.stdout.write(f"[policies] demo policies loaded: {self.created} objects created.")

    def seed_policies(self) -> None:
        valid_from = datetime.date(timezone.localdate().year, 1, 1)
        for spec in POLICIES:
            policy = Policy.objects.filter(code=spec["code"]).first()
            if policy is None:
                policy = policy_services.policy_create(actor=None, valid_from=valid_from, **spec)
                self.created += 1
            draft = policy.versions.filter(status=PolicyVersionStatus.DRAFT).first()
            if draft is not None and not policy.versions.filter(status=PolicyVersionStatus.PUBLISHED).exists():
                policy_services.policy_version_publish(actor=None, version=draft)
                self.created += 1

    def seed_applications(self) -> None:
        office = User.objects.get(username=OFFICE)
        for statement, first17, username, code, amount, months, outcome in APPLICATIONS:
            enterprise = _enterprise(first17)
            user = User.objects.filter(username=username).first()
            policy = Policy.objects.filter(code=code).first()
            if enterprise is None or user is None or policy is None:
                continue
            if PolicyApplication.objects.filter(enterprise=enterprise, policy=policy, statement=statement).exists():
                continue
            application = policy_actions.policy_apply_and_start(
                actor=user,
                enterprise=enterprise,
                policy=policy,
                requested_amount=amount,
                requested_term_months=months,
                statement=statement,
            )
            self.created += 1
            if application.status != ApplicationStatus.PENDING_REVIEW:
                continue
            if outcome == "granted":
                grant = policy_actions.policy_approve_and_route(
                    actor=office,
                    application=application,
                    amount=Decimal(amount),
                    term_months=months,
                    note="经审核，企业信用等级及贷款用途符合政策要求，按申请金额予以贴息。",
                )
                quarter = (Decimal(amount) / 4).quantize(Decimal("0.01"))
                today = timezone.localdate()
                for number in (1, 2):
                    policy_services.disbursement_record(
                        actor=office,
                        grant=grant,
                        amount=quarter,
                        paid_on=today,
                        reference=f"沈财拨〔{today.year}〕贴息第{grant.pk:03d}-{number}号",
                    )
            elif outcome == "refused":
                policy_actions.policy_refuse_and_route(
                    actor=office,
                    application=application,
                    reason="申请担保金额超过企业上一年度净资产的50%，且未提供反担保措施，不予批准。可补充反担保后重新申请。",
                )
            elif outcome == "withdrawn":
                policy_actions.policy_withdraw_and_cancel(actor=user, application=application)

    def seed_projects(self) -> None:
        for first17, username, name, reference, contract, base in PROJECTS:
            enterprise = _enterprise(first17)
            user = User.objects.filter(username=username).first()
            if enterprise is None or user is None:
                continue
            if ConstructionProject.objects.filter(enterprise=enterprise, name=name).exists():
                continue
            project = policy_services.construction_project_register(
                actor=user,
                enterprise=enterprise,
                name=name,
                reference=reference,
                contract_amount=contract,
                wage_deposit_base=base,
            )
            policy_services.deposit_waiver_decide(actor=user, project=project)
            self.created += 1
