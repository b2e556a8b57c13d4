"""Demo credit history: three years of entries for the five demo enterprises, so that grades A, B,
C and D all occur, with one repaired entry (a granted repair request) and one reversed entry (a
granted objection); then a checkpoint. Idempotent: a second run adds nothing and writes no
checkpoint. Called as the last step of ``seed_demo``.
"""

from __future__ import annotations

import datetime
import random
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from core.models import User
from credit.enterprises.uscc import uscc_with_check_digit
from credit.ledger import services as ledger_services
from credit.ledger.models import CreditEntryKind, CreditRequest, LedgerEntry
from credit.management.progress import Progress
from credit.models import Enterprise

# The demo enterprises of seed_demo (first 17 characters of the code) and the profile each gets.
PROFILES = [
    ("91210100MA0XK1234", "exemplary"),  # 北方智能装备: A
    ("91210112MA0YB5678", "ordinary"),  # 浑南云数: B
    ("91210100MA0TJ9012", "troubled"),  # 盛京建设: C, with a repaired serious entry
    ("91210106MA0PQ3456", "dishonest"),  # 新松食品: D (court dishonest-debtor listing)
    ("91210113MA0LM7890", "corrected"),  # 东陵生态: an erroneous penalty reversed on objection
]

AUTHORITIES = {
    "commitment_fulfilled": ("沈阳市行政审批局", "application"),
    "inspection_passed": ("沈阳市市场监督管理局", "inspection"),
    "tax_grade_a": ("国家税务总局沈阳市税务局", "import_batch"),
    "tax_grade_d": ("国家税务总局沈阳市税务局", "import_batch"),
    "penalty_simplified": ("沈阳市市场监督管理局", "inspection"),
    "admin_penalty": ("沈阳市生态环境局", "inspection"),
    "rectification_overdue": ("沈阳市市场监督管理局", "inspection"),
    "wage_arrears": ("沈阳市人力资源和社会保障局", "inspection"),
    "false_commitment": ("沈阳市行政审批局", "application"),
    "court_dishonest_debtor": ("沈阳市中级人民法院", "import_batch"),
}
LEGAL_BASIS = {
    "admin_penalty": "《中华人民共和国行政处罚法》第二十八条",
    "penalty_simplified": "《中华人民共和国行政处罚法》第五十一条",
    "wage_arrears": "《保障农民工工资支付条例》第五十四条",
    "false_commitment": "《优化营商环境条例》第四十条",
    "court_dishonest_debtor": "《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条",
    "rectification_overdue": "《市场监督管理行政处罚程序规定》",
}
DAY = datetime.timedelta(days=1)


class Command(BaseCommand):
    help = "Load a realistic three-year demo credit history (idempotent) and write a checkpoint."

    def handle(self, *args: Any, **options: Any) -> None:
        if LedgerEntry.objects.filter(source_id__startswith="demo:").exists():
            self.stdout.write("Credit demo history already present: nothing changed.")
            return
        enterprises = []
        for first17, profile in PROFILES:
            enterprise = Enterprise.objects.filter(uscc=uscc_with_check_digit(first17)).first()
            if enterprise is not None:
                enterprises.append((enterprise, profile))
        if not enterprises:
            self.stdout.write("No demo enterprises (run seed_demo): no credit history loaded.")
            return
        now = timezone.now()
        plan = sorted(
            (item for enterprise, profile in enterprises for item in self._plan(enterprise, profile, now)),
            key=lambda item: item[1],
        )
        self._retire_stale_anchor_file()
        progress = Progress("credit demo", enabled=options.get("verbosity", 1) > 0)
        kinds = {k.code: k for k in CreditEntryKind.objects.filter(is_current=True)}
        with transaction.atomic():
            marked: dict[str, LedgerEntry] = {}
            for number, (enterprise, occurred_at, code, mark) in enumerate(plan, start=1):
                authority, source_type = AUTHORITIES[code]
                entry = ledger_services.credit_entry_append(
                    actor=None,
                    enterprise=enterprise,
                    kind=kinds[code],
                    occurred_at=occurred_at,
                    deciding_authority=authority,
                    document_number=f"沈{occurred_at:%Y}-{code[:3].upper()}-{number:04d}号",
                    legal_basis=LEGAL_BASIS.get(code, ""),
                    reason=f"{kinds[code].name}（演示数据）",
                    source_type=source_type,
                    source_id=f"demo:{number}",
                    backfill_recorded_at=occurred_at + datetime.timedelta(days=2, hours=3),
                )
                if mark:
                    marked[mark] = entry
                progress(number, len(plan))
            self._requests(marked)
        self.stdout.write(f"Credit demo history: {len(plan)} entries over three years, one repair, one reversal.")
        from credit.management.commands.ledger_checkpoint import checkpoint_write

        status, line = checkpoint_write(anchor_file=Path(settings.CREDIT_LEDGER_ANCHOR_FILE), verbose=False)
        self.stdout.write(f"Checkpoint {status}: {line}")

    def _retire_stale_anchor_file(self) -> None:
        """A fresh demo database starts a fresh chain: anchors of an earlier database would only make
        ``ledger_verify`` report that chain as missing, so they are moved aside (never deleted)."""
        path = Path(settings.CREDIT_LEDGER_ANCHOR_FILE)
        if LedgerEntry.objects.exists() or not path.exists():
            return
        retired = path.with_name(f"{path.name}.retired-{timezone.now():%Y%m%d%H%M%S}")
        path.rename(retired)
        self.stdout.write(f"Anchors of an earlier ledger moved to {retired}")

    def _plan(
        self, enterprise: Enterprise, profile: str, now: datetime.datetime
    ) -> list[tuple[Enterprise, datetime.datetime, str, str]]:
        rng = random.Random(f"{enterprise.uscc}-{profile}")  # noqa: S311  (demo data, not security)
        start = now - datetime.timedelta(days=3 * 365)
        items: list[tuple[Enterprise, datetime.datetime, str, str]] = []

        def at(days_ago: float) -> datetime.datetime:
            moment = now - datetime.timedelta(days=days_ago)
            return moment.replace(hour=10, minute=0, second=0, microsecond=0)

        def add(days_ago: float, code: str, mark: str = "") -> None:
            if at(days_ago) >= start:
                items.append((enterprise, at(days_ago), code, mark))

        # Commitments fulfilled on most months, inspections most quarters: the bulk of the history.
        for month in range(36):
            if rng.random() < 0.85:
                add(month * 30 + rng.randint(3, 25), "commitment_fulfilled")
            if rng.random() < 0.35:
                add(month * 30 + rng.randint(3, 25), "commitment_fulfilled")
        for quarter in range(12):
            if rng.random() < 0.7:
                add(quarter * 91 + rng.randint(5, 80), "inspection_passed")
        if profile in ("exemplary", "corrected"):
            for year in range(3):
                add(year * 365 + 200, "tax_grade_a")
            for _ in range(4):
                add(rng.randint(400, 1000), "penalty_simplified")
        if profile == "exemplary":
            add(30, "tax_grade_a")
        if profile == "ordinary":
            add(rng.randint(500, 900), "admin_penalty")
            add(rng.randint(60, 150), "admin_penalty")
            for _ in range(3):
                add(rng.randint(100, 1000), "penalty_simplified")
        if profile == "troubled":
            add(900, "wage_arrears")
            add(700, "admin_penalty")
            add(430, "false_commitment", mark="repair_target")
            add(200, "admin_penalty")
            add(60, "rectification_overdue")
            add(40, "admin_penalty")
            for _ in range(6):
                add(rng.randint(30, 1000), "penalty_simplified")
        if profile == "dishonest":
            add(800, "admin_penalty")
            add(500, "wage_arrears")
            add(300, "admin_penalty")
            add(150, "court_dishonest_debtor")
            add(120, "tax_grade_d")
            for _ in range(5):
                add(rng.randint(30, 1000), "penalty_simplified")
        if profile == "corrected":
            add(45, "admin_penalty", mark="reversal_target")
        return items

    def _requests(self, marked: dict[str, LedgerEntry]) -> None:
        """The repair and the objection, granted by the credit office (four-eyes is not needed for
        a decision on a request; the request's submitter is the enterprise's legal representative)."""
        office = User.objects.filter(username="credit1").first()
        if office is None:
            return
        requests = [
            (
                "repair_target",
                CreditRequest.Kind.REPAIR,
                "已按要求整改并履行全部义务，申请信用修复。",
                "整改报告、缴款凭证",
                "本企业承诺依法诚信经营，如有违反愿承担相应责任。",
                "已满最短公示期限，整改到位并作出信用承诺，准予修复。",
            ),
            (
                "reversal_target",
                CreditRequest.Kind.OBJECTION,
                "该处罚决定已被行政复议撤销，记录有误。",
                "行政复议决定书",
                "",
                "经核实，原处罚决定已被撤销，异议成立，撤销该记录。",
            ),
        ]
        for mark, kind, statement, evidence, commitment, decision in requests:
            entry = marked.get(mark)
            if entry is None:
                continue
            member = entry.enterprise.memberships.filter(status="confirmed").select_related("user").first()
            submitter = member.user if member else office
            credit_request = ledger_services.credit_request_submit(
                actor=submitter,
                enterprise=entry.enterprise,
                entry=entry,
                kind=kind,
                statement=statement,
                evidence=evidence,
                commitment=commitment,
            )
            ledger_services.credit_request_decide(
                actor=office, credit_request=credit_request, grant=True, reason=decision
            )
