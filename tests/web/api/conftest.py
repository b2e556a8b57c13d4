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


def approved_case(tenants: Tenants, bureau: Any, enterprise: Any = None, owner: User | None = None) -> Any:
    """An application of ``enterprise`` (A by default) filed, accepted, reviewed and approved: it
    has its acceptance and approval notices and its e-certificate."""
    from tests.workflows.conftest import accept, claim_and, file_application, only_task, review_all
    from workflows.actions import applications as actions

    application = file_application(owner or tenants.owner, enterprise or tenants.enterprise_a, tenants.item)
    accept(bureau, application)
    review_all(bureau, application)
    task = only_task(application, "decide")
    claim_and(bureau.decider, task)
    actions.decide_complete(actor=bureau.decider, task=task, outcome="approved")
    application.refresh_from_db()
    return application


def site_message(recipient: User, *, obj: Any = None, title: str = "消息", read: bool = False) -> Any:
    """A message in ``recipient``'s message centre (as the site channel delivers it), about ``obj``."""
    from core.outbox.models import OutboxMessage, SiteMessage

    object_type = obj._meta.label_lower if obj is not None else ""
    object_id = str(obj.pk) if obj is not None else ""
    outbox = OutboxMessage.objects.create(
        recipient=recipient,
        kind="application.status_changed",
        language="zh-hans",
        object_type=object_type,
        object_id=object_id,
        dedupe_key=f"test:{OutboxMessage.objects.count()}:{title}",
    )
    return SiteMessage.objects.create(
        message=outbox,
        recipient=recipient,
        title=title,
        body=f"{title}的正文",
        object_type=object_type,
        object_id=object_id,
        read_at=timezone.now() if read else None,
    )
