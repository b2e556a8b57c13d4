"""An enterprise's credit grade with the explanation on the API, as of now and as of a past instant
(what was recorded by then), and its ledger entries; the portal's credit page is the reference."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from credit.ledger import scoring
from credit.ledger.models import LedgerEntry
from tests.credit.ledger_helpers import append
from tests.web.api.conftest import bearer, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(tenants):
    return bearer(token_for(tenants.owner, "read"))


def _url(enterprise, tail: str = "") -> str:
    return f"/api/v1/enterprise/enterprises/{enterprise.pk}/credit/{tail}"


def test_grade_now_with_the_entries_that_count(client, tenants):
    entry = append(tenants.enterprise_a, "admin_penalty")

    response = client.get(_url(tenants.enterprise_a))

    assert response.status_code == 200
    body = response.json()
    assert (body["grade"], body["score"], body["base"]) == ("C", 80 + entry.points, 80)
    assert body["rule_version"] == scoring.CURRENT_RULES.version
    [row] = body["contributing"]
    assert row["seq"] == entry.seq and row["points"] == entry.points
    assert row["kind_code"] == "admin_penalty" and row["kind_label"] == entry.kind.label
    assert row["deciding_authority"] == entry.deciding_authority
    assert row["document_number"] == entry.document_number
    assert row["repair_from"] is not None  # a negative entry: repair after its minimum window
    assert body["excluded"] == []


def test_the_same_grade_as_the_portal_page(client, tenants):
    append(tenants.enterprise_a, "admin_penalty")
    browser = Client()
    browser.force_login(tenants.owner)

    page = browser.get(f"/portal/enterprises/{tenants.enterprise_a.pk}/credit/")
    body = client.get(_url(tenants.enterprise_a)).json()

    explanation = page.context["explanation"]
    assert body["grade"] == explanation["result"].grade and body["score"] == explanation["result"].score
    assert [row["seq"] for row in body["contributing"]] == [row["c"].seq for row in explanation["contributing"]]


def test_grade_as_of_an_instant_before_the_entry_was_recorded(client, tenants):
    before = timezone.now() - datetime.timedelta(hours=1)
    append(tenants.enterprise_a, "admin_penalty", days_ago=30)  # back-dated, recorded now

    past = client.get(_url(tenants.enterprise_a), {"as_of": before.isoformat()})
    now = client.get(_url(tenants.enterprise_a))

    assert past.status_code == 200
    assert (past.json()["grade"], past.json()["score"], past.json()["contributing"]) == ("B", 80, [])
    assert datetime.datetime.fromisoformat(past.json()["as_of"]) == before
    assert now.json()["grade"] == "C"


def test_as_of_accepts_a_date_and_todays_date_means_now(client, tenants):
    append(tenants.enterprise_a, "admin_penalty")
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()

    past = client.get(_url(tenants.enterprise_a), {"as_of": yesterday})
    today = client.get(_url(tenants.enterprise_a), {"as_of": timezone.localdate().isoformat()})

    assert past.status_code == 200 and past.json()["grade"] == "B"
    assert today.status_code == 200 and today.json()["grade"] == "C"


@pytest.mark.parametrize(
    ("value", "code"),
    [("yesterday", "as_of_invalid"), ("2026-13-01", "as_of_invalid"), ("2999-01-01T00:00:00+08:00", "as_of_in_future")],
)
def test_a_bad_as_of_is_a_400_with_its_code(client, tenants, value, code):
    response = client.get(_url(tenants.enterprise_a), {"as_of": value})

    assert response.status_code == 400
    assert response.json()["code"] == code and response.json()["message"]


def test_entries_list_newest_first_by_cursor_without_ended_ones(client, tenants):
    first = append(tenants.enterprise_a, "admin_penalty", days_ago=40)
    second = append(tenants.enterprise_a, "admin_penalty", days_ago=20)
    third = append(tenants.enterprise_a, "admin_penalty", days_ago=10)
    repair = append(tenants.enterprise_a, "repair", reverses=first, days_ago=0)
    append(tenants.enterprise_b, "admin_penalty")

    page_one = client.get(_url(tenants.enterprise_a, "entries/"), {"page_size": 1})
    page_two = client.get(page_one.json()["next"])

    assert page_one.status_code == 200
    assert [row["seq"] for row in page_one.json()["results"]] == [third.seq]
    assert [row["seq"] for row in page_two.json()["results"]] == [second.seq]
    every = client.get(_url(tenants.enterprise_a, "entries/")).json()["results"]
    # the repaired entry and the repair itself are left out, as on the portal
    assert [row["seq"] for row in every] == [third.seq, second.seq]
    assert every[0]["entry_hash"] == LedgerEntry.objects.get(seq=third.seq).entry_hash
    grade = client.get(_url(tenants.enterprise_a)).json()
    assert repair.seq not in [row["seq"] for row in grade["excluded"]]


def test_another_enterprises_credit_is_a_404(client, tenants):
    append(tenants.enterprise_b, "admin_penalty")

    for url in (_url(tenants.enterprise_b), _url(tenants.enterprise_b, "entries/")):
        response = client.get(url)
        assert response.status_code == 404 and set(response.json()) == {"code", "message"}
