"""Personas of the API tests: the owner (legal representative of enterprise A), a peer (of B), a
pending member of A, a staff member; their tokens; an item to file under."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from core.api import services as token_services
from core.models import User
from tests import factories
from tests.approvals.test_campaigns import anchor_file, setting, verified  # noqa: F401  (campaign fixtures)
from tests.workflows.conftest import make_item


@pytest.fixture(autouse=True)
def _fresh_throttles() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@dataclass
class Tenants:
    owner: User
    enterprise_a: Any
    peer: User
    enterprise_b: Any
    pending: User
    staff: User
    item: Any


@pytest.fixture
def tenants(bureau) -> Tenants:  # type: ignore[no-untyped-def]
    a = factories.MembershipFactory(confirmed=True)
    b = factories.MembershipFactory(confirmed=True)
    pending = factories.MembershipFactory(enterprise=a.enterprise)  # requested, not confirmed
    return Tenants(
        owner=a.user,
        enterprise_a=a.enterprise,
        peer=b.user,
        enterprise_b=b.enterprise,
        pending=pending.user,
        staff=bureau.desk_user,
        item=make_item(bureau),
    )


def token_for(user: User, scope: str = "write", *, enterprise_id: int | None = None, days: int = 30) -> str:
    _token, secret = token_services.access_token_create(
        actor=user,
        name=f"{scope} token",
        scope=scope,
        expires_on=timezone.localdate() + datetime.timedelta(days=days),
        enterprise_id=enterprise_id,
    )
    return secret


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


FORM = {
    "project_name": "沈阳示例食品店",
    "project_address": "沈阳市浑南区创新路 1 号",
    "description": "食品经营",
    "contact_name": "张伟",
    "contact_phone": "024-12345678",
}
