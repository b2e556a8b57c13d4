"""Two (or four) integrity scans at once raise each alert once, with real threads on PostgreSQL:
the unique dedupe key makes the later insert wait for the first scan's commit and then skip."""

from __future__ import annotations

import pytest

from approvals.models import IntegrityAlert
from approvals.supervision import integrity
from approvals.supervision import integrity_services as services
from core.models import AuditEvent
from tests.approvals.integrity_helpers import PERIOD, at, decided_case
from tests.concurrency.conftest import run_concurrently
from tests.workflows.conftest import make_item

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("scans", [2, 4])
def test_concurrent_scans_raise_each_alert_once(bureau, owner, enterprise, settings, scans):
    # Given three decisions by one person on one enterprise's cases (K = 2), the last at 21:00
    settings.INTEGRITY_SAME_ENTERPRISE_MAX = 2
    version = make_item(bureau, co_review=0)
    for day, hour in ((14, 10), (15, 11), (16, 21)):
        decided_case(bureau, owner, enterprise, version, filed=at(day), decided=at(day, hour))
    # When several scans of the period run at once
    results = run_concurrently(*[lambda: services.integrity_scan(period=PERIOD) for _ in range(scans)])
    # Then none failed, two alerts exist, each raised by exactly one scan and audited once
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(len(r) for r in results) == 2
    assert sorted(IntegrityAlert.objects.values_list("rule", flat=True)) == [
        integrity.DECISION_OUTSIDE_HOURS,
        integrity.SAME_DECIDER_ENTERPRISE,
    ]
    assert AuditEvent.objects.filter(action="integrity_alert.raised").count() == 2
