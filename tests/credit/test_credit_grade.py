"""The grade from the ledger: the command, as-of semantics, snapshots."""

from __future__ import annotations

import datetime
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from credit.ledger import scoring
from credit.ledger import selectors as ledger_selectors
from credit.ledger import services as ledger_services
from credit.ledger.models import GradeSnapshot
from tests.credit.ledger_helpers import append

pytestmark = pytest.mark.django_db


def _grade(*args: str) -> dict:
    out = StringIO()
    call_command("credit_grade", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_credit_grade_json_has_the_documented_keys(enterprise):
    append(enterprise, "admin_penalty")
    append(enterprise, "court_dishonest_debtor")
    data = _grade(enterprise.uscc)
    assert {"uscc", "as_of", "grade", "score", "rule_version", "contributing", "excluded"} <= set(data)
    assert data["grade"] == "D" and data["score"] == 80 - 15 - 50
    assert len(data["contributing"]) == 2 and data["uscc"] == enterprise.uscc


def test_a_date_alone_means_the_end_of_that_day_in_shanghai(enterprise):
    as_of = ledger_selectors.parse_as_of("2026-05-31")
    assert as_of.astimezone(scoring.SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") == "2026-05-31 23:59:59"
    data = _grade(enterprise.uscc, "--as-of", "2026-05-31")
    assert data["as_of"].startswith("2026-05-31T23:59:59")


def test_unknown_or_invalid_uscc_exits_non_zero(enterprise):
    from tests.factories import next_uscc

    with pytest.raises(CommandError, match="no enterprise"):
        call_command("credit_grade", next_uscc(), stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("credit_grade", "nonsense", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("credit_grade", enterprise.uscc, "--as-of", "yesterday", stdout=StringIO())


def test_text_output_explains(enterprise):
    entry = append(enterprise, "admin_penalty")
    out = StringIO()
    call_command("credit_grade", enterprise.uscc, stdout=out)
    assert f"#{entry.seq}" in out.getvalue() and "score 65" in out.getvalue()


def test_grade_as_of_a_past_instant_ignores_later_back_dated_entries(enterprise):
    append(enterprise, "admin_penalty", days_ago=40)
    past = timezone.now()
    before = ledger_selectors.credit_grade_as_of(enterprise=enterprise, as_of=past)
    append(enterprise, "court_dishonest_debtor", days_ago=100)  # back-dated, recorded now
    assert ledger_selectors.credit_grade_as_of(enterprise=enterprise, as_of=past) == before
    assert ledger_selectors.credit_grade_as_of(enterprise=enterprise).grade == "D"


def test_stored_snapshots_equal_a_recomputation(enterprise):
    for code in ("admin_penalty", "tax_grade_a", "inspection_passed"):
        append(enterprise, code)
    instants = [timezone.now() - datetime.timedelta(days=d) for d in (0, 5, 30)]
    for instant in instants:
        ledger_services.grade_snapshot_store(enterprise=enterprise, as_of=instant)
    append(enterprise, "wage_arrears", days_ago=50)  # later entries do not invalidate a past snapshot
    for snapshot in GradeSnapshot.objects.filter(enterprise=enterprise):
        result = ledger_selectors.credit_grade_as_of(enterprise=enterprise, as_of=snapshot.as_of)
        assert (snapshot.grade, snapshot.score, snapshot.rule_version) == (
            result.grade,
            result.score,
            result.rule_version,
        )
        assert snapshot.contributing == [c.seq for c in result.contributing]


def test_the_cached_grade_equals_a_recomputation_at_every_instant(enterprise):
    append(enterprise, "penalty_simplified", days_ago=80)  # minor: ends at 3 months
    append(enterprise, "admin_penalty", days_ago=30)
    start = timezone.now()
    first = ledger_services.credit_grade_current(enterprise=enterprise, as_of=start)
    assert not first.from_snapshot
    for days in (0, 1, 5, 9, 11, 20, 40, 400):
        moment = start + datetime.timedelta(days=days)
        cached = ledger_services.credit_grade_current(enterprise=enterprise, as_of=moment)
        fresh = ledger_selectors.credit_grade_as_of(enterprise=enterprise, as_of=moment)
        assert (cached.grade, cached.score, cached.contributing) == (
            fresh.grade,
            fresh.score,
            tuple(c.seq for c in fresh.contributing),
        ), days
    assert ledger_services.credit_grade_current(enterprise=enterprise, as_of=start).from_snapshot
    append(enterprise, "court_dishonest_debtor", days_ago=1)  # a new entry invalidates the snapshot
    now = ledger_services.credit_grade_current(enterprise=enterprise)
    assert not now.from_snapshot and now.grade == "D"


def test_a_snapshot_of_a_past_instant_is_not_reused_after_later_entries(enterprise):
    append(enterprise, "admin_penalty", days_ago=60)
    past = timezone.now()
    append(enterprise, "court_dishonest_debtor", days_ago=3)  # recorded after `past`
    ledger_services.grade_snapshot_store(enterprise=enterprise, as_of=past)
    current = ledger_services.credit_grade_current(enterprise=enterprise)
    assert current.grade == "D" and not current.from_snapshot


def test_grouped_facts_stream_equals_per_enterprise_facts(enterprise, peer_enterprise):
    for number in range(6):
        append(enterprise if number % 2 else peer_enterprise, days_ago=number)
    grouped = dict(ledger_selectors.entry_facts_grouped())
    assert grouped == {
        enterprise.pk: ledger_selectors.entry_facts(enterprise=enterprise),
        peer_enterprise.pk: ledger_selectors.entry_facts(enterprise=peer_enterprise),
    }
