"""Demo data: jurisdictions, departments, staff for every role, enterprises and their users.

Idempotent: every object is looked up by its natural key first, so a second run creates nothing,
writes no audit event and says so. Everything is created through the services, as a person would.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from approvals.models import ApprovalItem, CalendarYear, Delegation, Department, Jurisdiction, RoleAssignment
from approvals.organisation import services as org
from approvals.organisation.roles import StaffRole
from core.models import User
from core.system_accounts.models import AuthorityKind, SystemAccount
from core.system_accounts.services import system_account_register
from core.uploads import minimal_pdf
from credit.enterprises import services as credit
from credit.enterprises.uscc import uscc_with_check_digit
from credit.models import Enterprise, Membership

DEMO_PASSWORD = "ReformFlow-demo-2026"  # noqa: S105  (printed on purpose: demo accounts only)

JURISDICTIONS = [
    ("SY", "沈阳市", Jurisdiction.Level.CITY, None),
    ("SY-HN", "浑南区", Jurisdiction.Level.DISTRICT, "SY"),
    ("SY-ZCQ", "沈大国家自主创新示范区（沈阳片区）", Jurisdiction.Level.ZONE, "SY"),
]

# code, name, kind, jurisdiction, parent
DEPARTMENTS = [
    ("SY-SPJ", "沈阳市行政审批局", Department.Kind.BUREAU, "SY", None),
    ("SY-SPJ-CK", "综合受理窗口", Department.Kind.DEPARTMENT, "SY", "SY-SPJ"),
    ("SY-SPJ-SC", "市场准入审批处", Department.Kind.DEPARTMENT, "SY", "SY-SPJ"),
    ("SY-SPJ-JS", "建设工程审批处", Department.Kind.DEPARTMENT, "SY", "SY-SPJ"),
    ("SY-SPJ-JS-SG", "施工许可科", Department.Kind.SECTION, "SY", "SY-SPJ-JS"),
    ("SY-SPJ-HB", "生态环境审批处", Department.Kind.DEPARTMENT, "SY", "SY-SPJ"),
    ("SY-SPJ-XF", "消防审验处", Department.Kind.DEPARTMENT, "SY", "SY-SPJ"),
    ("SY-SPJ-GH", "自然资源和规划审批处", Department.Kind.DEPARTMENT, "SY", "SY-SPJ"),
    ("SY-SPJ-WJ", "卫生健康审批处", Department.Kind.DEPARTMENT, "SY", "SY-SPJ"),
    ("ZCQ-SPJ", "自创区行政审批局", Department.Kind.BUREAU, "SY-ZCQ", None),
    ("ZCQ-SPJ-ZH", "自创区综合审批处", Department.Kind.DEPARTMENT, "SY-ZCQ", "ZCQ-SPJ"),
]

# username, display name, [(role, department code or None)]
STAFF = [
    ("admin", "系统管理员 王敏", [(StaffRole.ADMINISTRATOR, None)]),
    ("desk1", "窗口受理员 李娜", [(StaffRole.DESK, "SY-SPJ-CK")]),
    ("desk2", "窗口受理员 赵强", [(StaffRole.DESK, "SY-SPJ-CK")]),
    ("rev_sc", "市场准入审查员 周杰", [(StaffRole.REVIEWER, "SY-SPJ-SC")]),
    ("rev_js", "建设工程审查员 吴磊", [(StaffRole.REVIEWER, "SY-SPJ-JS")]),
    ("rev_hb", "生态环境审查员 郑丽", [(StaffRole.REVIEWER, "SY-SPJ-HB")]),
    ("rev_xf", "消防审验员 孙浩", [(StaffRole.REVIEWER, "SY-SPJ-XF")]),
    ("rev_gh", "规划审查员 钱芳", [(StaffRole.REVIEWER, "SY-SPJ-GH")]),
    ("rev_wj", "卫生健康审查员 冯雪", [(StaffRole.REVIEWER, "SY-SPJ-WJ")]),
    ("dec_sc", "市场准入处处长 陈刚", [(StaffRole.DECIDER, "SY-SPJ-SC")]),
    ("dec_js", "建设工程处处长 刘洋", [(StaffRole.DECIDER, "SY-SPJ-JS")]),
    ("dec_hb", "生态环境处处长 何静", [(StaffRole.DECIDER, "SY-SPJ-HB")]),
    ("dec_xf", "消防审验处处长 邓超", [(StaffRole.DECIDER, "SY-SPJ-XF")]),
    ("dec_gh", "规划审批处处长 韩梅", [(StaffRole.DECIDER, "SY-SPJ-GH")]),
    ("dec_wj", "卫生健康处处长 曹阳", [(StaffRole.DECIDER, "SY-SPJ-WJ")]),
    ("insp1", "监管检查员 杨帆", [(StaffRole.INSPECTOR, "SY-SPJ-SC")]),
    ("insp2", "监管检查员 黄磊", [(StaffRole.INSPECTOR, "SY-SPJ-SC")]),
    ("insp3", "监管检查员 林峰", [(StaffRole.INSPECTOR, "SY-SPJ-JS")]),
    ("insp4", "监管检查员 高原", [(StaffRole.INSPECTOR, "SY-SPJ-JS")]),
    ("insp5", "监管检查员 周敏", [(StaffRole.INSPECTOR, "SY-SPJ-SC")]),
    ("insp6", "监管检查员 吴迪", [(StaffRole.INSPECTOR, "SY-SPJ-JS")]),
    ("credit1", "信用办 马丽", [(StaffRole.CREDIT_OFFICE, None)]),
    ("credit2", "信用办 罗斌", [(StaffRole.CREDIT_OFFICE, None)]),
    ("policy1", "政策兑现办 宋佳", [(StaffRole.POLICY_OFFICE, None)]),
    ("supervisor1", "电子监察 唐军", [(StaffRole.SUPERVISOR, None)]),
    ("auditor1", "审计员 许晴", [(StaffRole.AUDITOR, None)]),
    ("head1", "局长 赵国梁", [(StaffRole.BUREAU_HEAD, None)]),
]

# first 17 characters (check digit computed), name, legal representative
ENTERPRISES = [
    ("91210100MA0XK1234", "沈阳北方智能装备有限公司", "张伟"),
    ("91210112MA0YB5678", "沈阳浑南云数科技有限公司", "李静"),
    ("91210100MA0TJ9012", "辽宁盛京建设工程有限公司", "王建国"),
    ("91210106MA0PQ3456", "沈阳新松食品有限公司", "刘芳"),
    ("91210113MA0LM7890", "沈阳东陵生态环保科技有限公司", "陈晨"),
]


@dataclass
class EnterpriseUser:
    username: str
    display_name: str
    phone: str
    memberships: list[tuple[int, str, bool]]  # (enterprise index, role, confirm?)


ENTERPRISE_USERS = [
    EnterpriseUser("ent_zhangwei", "张伟", "13800000001", [(0, Membership.Role.LEGAL_REPRESENTATIVE, True)]),
    EnterpriseUser("ent_agent_bf", "代办人 吕晓", "13800000002", [(0, Membership.Role.AGENT, True)]),
    EnterpriseUser("ent_lijing", "李静", "13800000003", [(1, Membership.Role.LEGAL_REPRESENTATIVE, True)]),
    EnterpriseUser("ent_wangjg", "王建国", "13800000004", [(2, Membership.Role.LEGAL_REPRESENTATIVE, True)]),
    EnterpriseUser(
        "ent_agency",
        "代办公司 苏楠",
        "13800000005",
        [(2, Membership.Role.AGENT, True), (3, Membership.Role.AGENT, True)],
    ),
    EnterpriseUser("ent_liufang", "刘芳", "13800000006", [(3, Membership.Role.LEGAL_REPRESENTATIVE, True)]),
    EnterpriseUser("ent_chenchen", "陈晨", "13800000007", [(4, Membership.Role.LEGAL_REPRESENTATIVE, True)]),
    EnterpriseUser("ent_pending", "新用户 江涛", "13800000008", [(4, Membership.Role.AGENT, False)]),
]

# The demo's API client: the provincial credit platform, with a published secret like the password.
DEMO_CREDIT_PLATFORM = "辽宁省信用信息共享平台"
DEMO_CLIENT_NAME = "省信用平台（演示）"
DEMO_CLIENT_SECRET = "demo-credit-platform-secret"  # noqa: S105  (published, like DEMO_PASSWORD)

# A minimal, well-formed one-page PDF standing in for a scanned letter of authorisation.
DEMO_AUTHORISATION_PDF = minimal_pdf()


class Command(BaseCommand):
    help = "Load the demo organisation, staff and enterprises (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.created = 0
        # One Argon2 hash for every demo account: the password is the same published one for all,
        # and hashing it 30 times would make the command take seconds for nothing.
        self.password_hash = make_password(DEMO_PASSWORD)
        steps = [
            ("jurisdictions", self.seed_jurisdictions),
            ("departments", self.seed_departments),
            ("staff and roles", self.seed_staff),
            ("delegation", self.seed_delegation),
            ("enterprises", self.seed_enterprises),
            ("enterprise users and memberships", self.seed_enterprise_users),
            ("working-day calendar", self.seed_calendar),
            ("approval list", self.seed_items),
            ("system accounts of other authorities", self.seed_system_accounts),
        ]
        with transaction.atomic():
            for number, (label, step) in enumerate(steps, start=1):
                before = self.created
                step()
                self.stdout.write(f"[{number}/{len(steps)}] {label}: {self.created - before} created")
        if self.created == 0:
            self.stdout.write(self.style.SUCCESS("Demo data already present: nothing changed."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {self.created} objects created."))
        # The demo cases run the workflow, which sits above this app: called by name, not imported.
        call_command("seed_demo_cases", stdout=self.stdout._out, stderr=self.stderr._out)
        # Final step: the demo credit history and its checkpoint (the credit app's own idempotent command).
        call_command("seed_credit_demo", stdout=self.stdout._out, stderr=self.stderr._out)
        # Approve-then-supervise cases need the credit history (eligibility reads the grades).
        call_command("seed_demo_commitments", stdout=self.stdout._out, stderr=self.stderr._out)
        call_command("seed_demo_campaign", stdout=self.stdout._out, stderr=self.stderr._out)
        # Preferential policies gate on the same grades: the fast-track policy and its demo cases.
        call_command("seed_demo_fast_track", stdout=self.stdout._out, stderr=self.stderr._out)
        call_command("seed_demo_policies", stdout=self.stdout._out, stderr=self.stderr._out)
        # Issue 13: ratings of closed cases (a 差评 loop closed by a re-rating), integrity alerts from
        # the cases' own history, and last the warning ladder over everything the demo holds.
        call_command("seed_demo_history", stdout=self.stdout._out, stderr=self.stderr._out)
        call_command("seed_demo_ratings", stdout=self.stdout._out, stderr=self.stderr._out)
        call_command("seed_demo_integrity", stdout=self.stdout._out, stderr=self.stderr._out)
        call_command("seed_demo_supervision", stdout=self.stdout._out, stderr=self.stderr._out)
        self.print_logins()

    # --- steps ------------------------------------------------------------------------------

    def seed_jurisdictions(self) -> None:
        for code, name, level, parent_code in JURISDICTIONS:
            if Jurisdiction.objects.filter(code=code).exists():
                continue
            parent = Jurisdiction.objects.get(code=parent_code) if parent_code else None
            org.jurisdiction_create(actor=None, code=code, name=name, level=level, parent=parent)
            self.created += 1

    def seed_departments(self) -> None:
        for code, name, kind, jurisdiction_code, parent_code in DEPARTMENTS:
            if Department.objects.filter(code=code).exists():
                continue
            org.department_create(
                actor=None,
                code=code,
                name=name,
                kind=kind,
                jurisdiction=Jurisdiction.objects.get(code=jurisdiction_code),
                parent=Department.objects.get(code=parent_code) if parent_code else None,
            )
            self.created += 1

    def _user(self, username: str, display_name: str, kind: str, phone: str = "") -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                display_name=display_name,
                kind=kind,
                phone=phone,
                email=f"{username}@demo.reformflow.invalid",
            )
            user.password = self.password_hash
            user.save()
            self.created += 1
        return user

    def seed_staff(self) -> None:
        for username, display_name, roles in STAFF:
            user = self._user(username, display_name, User.Kind.STAFF)
            for role, department_code in roles:
                department = Department.objects.get(code=department_code) if department_code else None
                if RoleAssignment.objects.filter(
                    user=user, role=role, department=department, revoked_at__isnull=True
                ).exists():
                    continue
                org.staff_role_grant(actor=None, user=user, role=role, department=department)
                self.created += 1

    def seed_delegation(self) -> None:
        delegator, delegate = User.objects.get(username="rev_hb"), User.objects.get(username="rev_xf")
        department = Department.objects.get(code="SY-SPJ-HB")
        if Delegation.objects.filter(delegator=delegator, delegate=delegate, department=department).exists():
            return
        start = timezone.now().replace(minute=0, second=0, microsecond=0)
        org.delegation_create(
            actor=None,
            delegator=delegator,
            delegate=delegate,
            department=department,
            starts_at=start,
            ends_at=start + datetime.timedelta(days=14),
            reason="郑丽休假期间由孙浩代为审查（演示数据）",
        )
        self.created += 1

    def seed_enterprises(self) -> None:
        for first17, name, legal_rep in ENTERPRISES:
            code = uscc_with_check_digit(first17)
            if Enterprise.objects.filter(uscc=code).exists():
                continue
            credit.enterprise_register(actor=None, uscc=code, name=name, legal_representative=legal_rep)
            self.created += 1

    def seed_enterprise_users(self) -> None:
        admin = User.objects.get(username="admin")
        today = timezone.localdate()
        for spec in ENTERPRISE_USERS:
            user = self._user(spec.username, spec.display_name, User.Kind.ENTERPRISE, spec.phone)
            for index, role, confirm in spec.memberships:
                enterprise = Enterprise.objects.get(uscc=uscc_with_check_digit(ENTERPRISES[index][0]))
                if Membership.objects.filter(user=user, enterprise=enterprise).exists():
                    continue
                document = None
                valid_from = valid_until = None
                if role == Membership.Role.AGENT:
                    document = ContentFile(DEMO_AUTHORISATION_PDF, name=f"authorisation-{spec.username}.pdf")
                    valid_from, valid_until = today - datetime.timedelta(days=30), today + datetime.timedelta(days=335)
                membership = credit.membership_request(
                    actor=user,
                    enterprise=enterprise,
                    role=role,
                    authorisation_document=document,
                    valid_from=valid_from,
                    valid_until=valid_until,
                )
                self.created += 1
                if confirm:
                    credit.membership_confirm(actor=admin, membership=membership, note="演示数据")

    def seed_calendar(self) -> None:
        from approvals.calendar.services import calendar_year_publish, calendar_years_from_package

        this_year = timezone.localdate().year
        wanted = [y for y in range(this_year - 1, this_year + 1) if not CalendarYear.objects.filter(year=y).exists()]
        for year, days in calendar_years_from_package(wanted).items():
            calendar_year_publish(actor=None, year=year, days=days, source=CalendarYear.Source.PACKAGE)
            self.created += 1

    def seed_items(self) -> None:
        from approvals.catalogue.demo import DEMO_ITEMS
        from approvals.catalogue.services import item_draft_create, item_version_publish

        for spec in DEMO_ITEMS:
            if ApprovalItem.objects.filter(code=spec["code"]).exists():
                continue
            fields = dict(spec)
            code = fields.pop("code")
            materials = fields.pop("materials")
            co_review = [Department.objects.get(code=c) for c in fields.pop("co_review")]
            fields["lead_department"] = Department.objects.get(code=fields.pop("lead"))
            fields["desk_department"] = Department.objects.get(code="SY-SPJ-CK")
            if "supervising" in fields:
                fields["supervising_department"] = Department.objects.get(code=fields.pop("supervising"))
            version = item_draft_create(
                actor=None, code=code, co_review_departments=co_review, materials=materials, **fields
            )
            item_version_publish(actor=None, version=version)
            self.created += 1

    def seed_system_accounts(self) -> None:
        """The provincial credit platform as an API client (OAuth2 client credentials)."""
        if SystemAccount.objects.filter(authority=DEMO_CREDIT_PLATFORM).exists():
            return
        system_account_register(
            actor=None,
            name=DEMO_CLIENT_NAME,
            authority=DEMO_CREDIT_PLATFORM,
            authority_kind=AuthorityKind.CREDIT_PLATFORM,
            scopes=["credit:import", "credit:grade"],
            client_secret=DEMO_CLIENT_SECRET,
        )
        self.created += 1

    def print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD})")
        for username, _display_name, roles in STAFF:
            described = ", ".join(f"{role.label}{' @ ' + code if code else ''}" for role, code in roles)
            self.stdout.write(f"  {username:<14} {described}")
        for spec in ENTERPRISE_USERS:
            described = ", ".join(
                f"{Membership.Role(role).label} of {ENTERPRISES[i][1]}{'' if confirm else ' (pending)'}"
                for i, role, confirm in spec.memberships
            )
            self.stdout.write(f"  {spec.username:<14} {described}")
        account = SystemAccount.objects.filter(authority=DEMO_CREDIT_PLATFORM).select_related("application").first()
        if account is not None:
            self.stdout.write(
                f"API client of {DEMO_CREDIT_PLATFORM} (POST /oauth/token/, grant_type=client_credentials): "
                f"client_id {account.application.client_id}, client_secret {DEMO_CLIENT_SECRET}"
            )
