"""Six months of the demo bureau's past work (issue 13: so that the efficiency dashboard's trend and
ranking mean something): 36 cases filed from about six months to six weeks ago, played through the
standard flow on their own days — accepted the next day, reviewed by every co-review department,
decided within the promised limit mostly, a few late or refused. Idempotent (each case has its own
idempotency key)."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand

from workflows.management.commands.seed_demo_cases import Command as Cases
from workflows.management.commands.seed_demo_cases import days_ago
from workflows.management.demo_cases import cases_play

NAMESPACE = uuid.UUID("7d4c6a52-3b1e-4f0e-9a57-5c2f6f0d13ab")

# (item, enterprise user, enterprise) in turn
FILERS = [
    ("SC-001", "ent_lijing", "沈阳浑南云数科技有限公司"),
    ("WJ-001", "ent_liufang", "沈阳新松食品有限公司"),
    ("XF-001", "ent_wangjg", "辽宁盛京建设工程有限公司"),
    ("SC-002", "ent_zhangwei", "沈阳北方智能装备有限公司"),
    ("HB-001", "ent_chenchen", "沈阳东陵生态环保科技有限公司"),
    ("WJ-002", "ent_lijing", "沈阳浑南云数科技有限公司"),
]
CASES = 36


class Command(BaseCommand):
    help = "Play six months of past demo cases through the standard flow (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        cases = Cases()
        plays = [(f"history_{n:02d}", self._play(cases, n)) for n in range(CASES)]
        created = cases_play(plays, namespace=NAMESPACE, label="past case", stderr=self.stderr)
        self.stdout.write(f"[history] past demo cases: {created} created")

    def _play(self, cases: Cases, n: int) -> Any:
        code, username, enterprise_name = FILERS[n % len(FILERS)]
        filed = 185 - n * 4  # about six months ago to about six weeks ago, every four days
        late = n % 11 == 5  # a few decided past the promised limit
        refused = n % 7 == 3

        def play(key: uuid.UUID) -> None:
            with days_ago(filed):
                application = cases.file(key, username, enterprise_name, code)
            with days_ago(filed - 1):
                cases.accept(application)
            with days_ago(filed - 3):
                for task in list(cases.task_list(application, "review")):
                    cases.review(application, task)
            with days_ago(filed - (24 if late else 6 + n % 5)):
                if refused:
                    cases.decide(application, "refused", "申请材料与现场情况不符，不符合法定条件。")
                else:
                    cases.decide(application)

        return play
