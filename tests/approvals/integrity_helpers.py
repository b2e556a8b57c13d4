"""Helpers of the integrity tests: cases played through the real flow at chosen instants, and
stored alerts for the screens' tests."""

from __future__ import annotations

import datetime
import itertools
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from approvals.models import Application, ApprovalItemVersion, IntegrityAlert
from approvals.supervision import integrity
from tests.workflows.conftest import Bureau, accept, claim_and, file_application, only_task, review_all
from workflows.actions import applications as actions

ZONE = ZoneInfo("Asia/Shanghai")
# September 2026 in the bureau's calendar: Mon 14 a working day, Fri 25 Mid-autumn (off), Sat 26 off.
PERIOD = integrity.Period(datetime.date(2026, 9, 1), datetime.date(2026, 10, 1))


def at(day: int, hour: int = 10, minute: int = 0, month: int = 9) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=ZONE)


def decided_case(
    bureau: Bureau,
    owner: Any,
    enterprise: Any,
    version: ApprovalItemVersion,
    *,
    filed: datetime.datetime,
    decided: datetime.datetime,
    outcome: str = "approved",
    opinion: str | None = None,
    justification: str = "",
) -> Application:
    """File and accept at ``filed``, give the co-review opinions (``opinion``) and decide at ``decided``."""
    with time_machine.travel(filed, tick=False):
        application = file_application(owner, enterprise, version)
        accept(bureau, application)
        if opinion is not None:
            review_all(
                bureau, application, outcome=opinion, reasons="消防通道宽度不足" if opinion == "disagree" else ""
            )
    with time_machine.travel(decided, tick=False):
        task = claim_and(bureau.decider, only_task(application, "decide"))
        actions.decide_complete(
            actor=bureau.decider,
            task=task,
            outcome=outcome,
            reasons="" if outcome == "approved" else "不符合条件",
            override_justification=justification,
        )
    application.refresh_from_db()
    return application


_counter = itertools.count(1)


def alert_make(
    person: Any, *, department: Any = None, rule: str = integrity.DECISION_OUTSIDE_HOURS, **fields: Any
) -> IntegrityAlert:
    """A stored alert as a scan would store it (for the screens' tests, which need many)."""
    number = next(_counter)
    values: dict[str, Any] = {
        "rule": rule,
        "person": person,
        "department": department,
        "subject": f"application:{number}",
        "period_start": PERIOD.start,
        "period_end": PERIOD.end,
        "dedupe_key": f"{rule}:{person.pk}:application:{number}:{PERIOD.key}",
        "evidence": {
            "case": {"id": number, "reference": f"SP2026-{number:06d}"},
            "enterprise": {"id": 1, "name": "测试企业"},
            "decided_at": "2026-09-14T21:30+08:00",
            "day_off": False,
            "calendar_provisional": False,
            "office_start": "08:30",
            "office_end": "17:30",
        },
    }
    values.update(fields)
    return IntegrityAlert.objects.create(**values)
