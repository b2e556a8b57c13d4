"""Helpers for the credit-ledger tests."""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from typing import Any

from django.utils import timezone

from credit.ledger import services as ledger_services
from credit.ledger.models import CreditEntryKind, LedgerEntry
from credit.models import Enterprise


def kind(code: str) -> CreditEntryKind:
    found = CreditEntryKind.objects.filter(code=code, is_current=True).first()
    if found is None:
        ledger_services.entry_kinds_ensure()
        found = CreditEntryKind.objects.get(code=code, is_current=True)
    return found


def append(enterprise: Enterprise, code: str = "admin_penalty", *, days_ago: int = 10, **kwargs: Any) -> LedgerEntry:
    values: dict[str, Any] = {
        "actor": None,
        "enterprise": enterprise,
        "kind": kind(code),
        "occurred_at": timezone.now() - datetime.timedelta(days=days_ago),
        "deciding_authority": "沈阳市市场监督管理局",
        "document_number": f"沈市监罚〔2026〕{LedgerEntry.objects.count() + 1}号",
        "legal_basis": "《行政处罚法》第二十八条",
        "reason": "测试记录",
        "source_type": "inspection",
        "source_id": "inspection:1",
    }
    values.update(kwargs)
    return ledger_services.credit_entry_append(**values)


def runtime_role_become(role: str) -> None:
    """Create the runtime role ``role`` as the owner, then go on in this transaction as that role."""
    from django.core.management import call_command
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL ROLE NONE")  # the owner creates the role (CI may run us as another)
    call_command("ledger_runtime_role", role=role, no_login=True, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {role}")
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == role


def runtime_role_connections(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str | None]:
    """Session fixture body (see tests/credit/conftest.py): with ``CREDIT_TEST_RUNTIME_ROLE`` set on
    PostgreSQL, create the role as the owner, then make every later connection as that role."""
    from django.core.management import call_command
    from django.db import connection

    role = os.environ.get("CREDIT_TEST_RUNTIME_ROLE", "").strip()
    if not role or connection.vendor != "postgresql":
        yield None
        return
    with django_db_blocker.unblock():
        call_command("ledger_runtime_role", role=role, no_login=True, verbosity=0)
        connection.close()
    options = connection.settings_dict.setdefault("OPTIONS", {})
    previous = options.get("options")
    options["options"] = f"-c role={role}"
    yield role
    with django_db_blocker.unblock():
        connection.close()
    if previous is None:
        options.pop("options", None)
    else:
        options["options"] = previous
