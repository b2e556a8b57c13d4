"""The entry-kind catalogue in the admin is versioned; the ledger is read-only there."""

from __future__ import annotations

import pytest
from django.urls import reverse

from credit.ledger.models import CreditEntryKind
from tests.credit.ledger_helpers import append, kind

pytestmark = pytest.mark.django_db


def test_changing_a_kind_in_the_admin_creates_the_next_version(admin_client):
    penalty = kind("admin_penalty")
    url = reverse("admin:credit_creditentrykind_change", args=[penalty.pk])
    data = {
        "name": penalty.name,
        "name_en": penalty.name_en,
        "default_points": "-18",
        "tier": penalty.tier,
        "min_window_months": penalty.min_window_months,
        "max_window_months": penalty.max_window_months,
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302
    versions = list(CreditEntryKind.objects.filter(code="admin_penalty").order_by("version"))
    assert [(k.version, k.default_points, k.is_current) for k in versions] == [(1, -15, False), (2, -18, True)]


def test_the_ledger_cannot_be_changed_in_the_admin(admin_client, enterprise):
    entry = append(enterprise)
    assert admin_client.get(reverse("admin:credit_ledgerentry_changelist")).status_code == 200
    assert admin_client.post(reverse("admin:credit_ledgerentry_delete", args=[entry.pk])).status_code == 403
    assert admin_client.get(reverse("admin:credit_ledgerentry_add")).status_code == 403
