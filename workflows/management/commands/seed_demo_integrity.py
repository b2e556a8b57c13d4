"""Demo integrity supervision (廉政监管, issue 13 item 3): cases played through the real flow whose
facts the integrity rules flag, then the scan that raises the alerts from them.

- the health department's decision maker (``dec_wj``) decides four public-venue licences (WJ-001)
  of 沈阳浑南云数科技有限公司 today: more than ``INTEGRITY_SAME_ENTERPRISE_MAX`` (3) decisions on one
  enterprise's cases in the period;
- the same decision maker decides another of its cases yesterday at 21:30, outside office hours.

Runs after ``seed_demo`` (users, items, calendar). Idempotent: each case has a fixed idempotency
key and is skipped when it exists; the scan stores each finding once, so a second run adds nothing.
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
from approvals.models import Application, ApprovalItemVersion
from approvals.supervision import integrity_selectors, integrity_services
from core.models import User
from core.uploads import minimal_pdf
from credit.models import Enterprise
from workflows.actions import applications as actions
from workflows.management.demo_cases import cases_play

NAMESPACE = uuid.UUID("6f1d3c52-9a57-4a4e-9f51-2f6c0d0f5a1e")
PDF = minimal_pdf()
ITEM = "WJ-001"
APPLICANT = "ent_lijing"
ENTERPRISE = "沈阳浑南云数科技有限公司"
DESK = "desk1"
DECIDER = "dec_wj"


@contextmanager
def at(moment: datetime.datetime | None) -> Iterator[None]:
    """Play what follows at ``moment`` (``None``: now)."""
    if moment is None:
        yield
        return
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def _morning(days: int) -> datetime.datetime:
    local = timezone.localtime() - datetime.timedelta(days=days)
    return local.replace(hour=9, minute=0, second=0, microsecond=0)


class Command(BaseCommand):
    help = "Play demo cases the integrity rules flag, and run the integrity scan (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        version = ApprovalItemVersion.objects.filter(item__code=ITEM, status="published").first()
        if version is None or User.objects.filter(username__in=[APPLICANT, DESK, DECIDER]).count() != 3:
            self.stdout.write(f"[integrity] item {ITEM} or the demo users missing (run seed_demo): skipped")
            return
        yesterday_night = (timezone.localtime() - datetime.timedelta(days=1)).replace(
            hour=21, minute=30, second=0, microsecond=0
        )
        cases: list[tuple[str, Callable[[uuid.UUID], None]]] = [
            (f"same_enterprise_{n}", self._case(filed=_morning(3 + n), decided=None)) for n in range(1, 5)
        ]
        cases.append(("after_hours", self._case(filed=_morning(4), decided=yesterday_night)))
        created = cases_play(cases, namespace=NAMESPACE, label="integrity case", stderr=self.stderr)
        self.stdout.write(f"[integrity] demo cases: {created} created")
        raised = 0
        for period in integrity_selectors.integrity_periods_recent():
            found = integrity_services.integrity_scan(period=period)
            raised += len(found)
            self.stderr.write(f"  integrity scan {period.key}: {len(found)} alert(s) raised\n")
        self.stdout.write(f"[integrity] alerts raised: {raised}")

    def _case(self, *, filed: datetime.datetime, decided: datetime.datetime | None) -> Callable[[uuid.UUID], None]:
        def play(key: uuid.UUID) -> None:
            with at(filed):
                application = self._file(key)
                desk = User.objects.get(username=DESK)
                task = self._task(application, "accept")
                actions.task_claim(actor=desk, task=task)
                actions.accept_complete(actor=desk, task=task, decision="accept", text="材料齐全，予以受理")
            with at(decided):
                decider = User.objects.get(username=DECIDER)
                task = self._task(application, "decide")
                actions.task_claim(actor=decider, task=task)
                actions.decide_complete(actor=decider, task=task, outcome="approved")

        return play

    def _file(self, key: uuid.UUID) -> Application:
        applicant = User.objects.get(username=APPLICANT)
        version = ApprovalItemVersion.objects.get(item__code=ITEM, status=ApprovalItemVersion.Status.PUBLISHED)
        application = services.application_draft_save(
            actor=applicant,
            enterprise_id=Enterprise.objects.get(name=ENTERPRISE).pk,
            item_version_id=version.pk,
            form_data={
                "project_name": f"{ENTERPRISE}门店{version.name}",
                "project_address": "沈阳市浑南区创新路 200 号",
                "description": "演示数据：连锁门店分批申请公共场所卫生许可。",
                "contact_name": applicant.display_name,
                "contact_phone": applicant.phone or "024-12345678",
            },
            idempotency_key=key,
        )
        for material in version.materials.all():
            services.application_material_attach(
                actor=applicant,
                application=application,
                required_material_id=material.pk,
                upload=ContentFile(PDF, name=f"{material.name}.pdf"),
            )
        return actions.application_submit_and_start(actor=applicant, application=application)

    def _task(self, application: Application, node: str) -> Any:
        for task in actions.open_tasks(application):
            if task.flow_task.name == node:
                return task
        raise LookupError(f"no open {node} task for {application.reference}")
