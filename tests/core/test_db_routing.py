"""The replica router (core/db_routing.py): read-only pages read from the replica, everything else
and every write from the primary, and a browser that just wrote reads from the primary.

The ``replica`` alias of the tests mirrors the test database (``TEST: MIRROR``, tests/conftest.py):
a second connection to the same data, so a page served "from the replica" shows the same rows and
every statement can be told apart by the connection that ran it. A mirror connection does not see
the uncommitted rows of a test wrapped in a transaction, hence ``transaction=True``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, include, path, reverse

from approvals.models import Department
from core.db_routing import PIN_COOKIE, ReplicaRouter, replica_reads
from core.models import AuditEvent
from credit.models import Enterprise
from tests import factories

REPLICA = "replica"
pytestmark = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])

# The routes whose views are marked @replica_reads: the auditor's console (but the ledger's
# verification, whose anchors may run ahead of a lagging replica, and the eligibility replay, a
# POST), the efficiency dashboard, its cases and CSV export, the public pages.
LISTED = {
    "audit:home",
    "audit:enterprise",
    "audit:events",
    "credit_audit:ledger",
    "credit_audit:enterprise",
    "credit_audit:export",
    "audit_eligibility:list",
    "audit_eligibility:decision",
    "audit_campaigns:list",
    "audit_campaigns:export",
    "audit_campaigns:verify",
    "workbench:dashboard",
    "workbench:dashboard_cases",
    "workbench:dashboard_export",
    "home",
    "service_list",
    "service_guide",
    "certificate_verify",
    "certificate_verify_code",
    "certificate_qr",
    "notice_verify",
    "efficiency_ranking",
    "inspections_public:list",
    "inspections_public:detail",
    "rating_scores",
}
# What the primary may still read on a replica-served page: who is asking (session, user, groups,
# permissions, lock-outs).
PRIMARY_ONLY_TABLE = re.compile(
    r'^"?(django_session|core_user(_groups|_user_permissions)?|auth_\w+|guardian_\w+|axes_\w+)"?$'
)
_FIRST_TABLE = re.compile(r'\bFROM\s+("?[\w]+"?)', re.IGNORECASE)


@dataclass
class Statements:
    by_alias: dict[str, list[str]] = field(default_factory=lambda: {DEFAULT_DB_ALIAS: [], REPLICA: []})

    def on(self, alias: str, verb: str | None = None) -> list[str]:
        return [sql for sql in self.by_alias[alias] if verb is None or sql.lstrip().upper().startswith(verb)]

    def domain_reads_on_primary(self) -> list[str]:
        reads = []
        for sql in self.on(DEFAULT_DB_ALIAS, "SELECT"):
            table = _FIRST_TABLE.search(sql)
            if table is None or not PRIMARY_ONLY_TABLE.match(table.group(1)):
                reads.append(sql)
        return reads

    def clear(self) -> None:
        for statements in self.by_alias.values():
            statements.clear()


@contextmanager
def captured() -> Iterator[Statements]:
    """Every statement each connection runs, by the alias of the connection that ran it."""
    statements = Statements()

    def recorder(alias: str) -> Callable[..., Any]:
        def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            statements.by_alias[alias].append(sql)
            return execute(sql, params, many, context)

        return wrapper

    with ExitStack() as stack:
        for alias in (DEFAULT_DB_ALIAS, REPLICA):
            stack.enter_context(connections[alias].execute_wrapper(recorder(alias)))
        yield statements


@pytest.fixture
def replica_on(settings: Any) -> None:
    settings.DATABASE_REPLICA_ALIAS = REPLICA


def _body(response: Any) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return bytes(response.content)


# --- a few views of the test's own, to drive the router from inside a request ------------------


@replica_reads
def _read_write_read(request: HttpRequest) -> HttpResponse:
    """A marked page that writes anyway: the write and every read after it go to the primary."""
    before = Department.objects.count()
    AuditEvent.objects.create(action="test.write", object_type="test", object_id="1")
    after = Department.objects.count()
    return HttpResponse(f"{before} {after}")


@replica_reads
def _reads_in_a_transaction(request: HttpRequest) -> HttpResponse:
    outside = Department.objects.count()
    with transaction.atomic():
        inside = Department.objects.count()
        locked = list(Department.objects.select_for_update().order_by("pk")[:1])
    return HttpResponse(f"{outside} {inside} {len(locked)}")


@replica_reads
def _streamed(request: HttpRequest) -> StreamingHttpResponse:
    def rows() -> Iterator[str]:
        for name in Department.objects.order_by("pk").values_list("name", flat=True).iterator(chunk_size=2):
            yield f"{name}\n"

    return StreamingHttpResponse(rows())


def _unmarked(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(Department.objects.count()))


urlpatterns = [
    path("_routing/read-write-read/", _read_write_read, name="test_read_write_read"),
    path("_routing/transaction/", _reads_in_a_transaction, name="test_transaction"),
    path("_routing/streamed/", _streamed, name="test_streamed"),
    path("_routing/unmarked/", _unmarked, name="test_unmarked"),
    path("", include("config.urls")),
]


@pytest.fixture
def test_urls(settings: Any) -> None:
    settings.ROOT_URLCONF = __name__


# --- the tests ----------------------------------------------------------------------------------


def test_exactly_the_listed_pages_are_marked_for_the_replica() -> None:
    # given every URL pattern of the site
    marked: set[str] = set()

    def walk(resolver: URLResolver, namespace: str) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace
                walk(entry, inner or namespace)
            elif isinstance(entry, URLPattern) and getattr(entry.callback, "replica_reads", False):
                marked.add(f"{namespace}:{entry.name}" if namespace else str(entry.name))

    walk(get_resolver(), "")
    # then the read-only pages, and nothing else, may read from the replica
    assert marked == LISTED


def test_read_only_pages_read_from_the_replica(client: Client, replica_on: None, auditor: Any) -> None:
    # given data on the primary and an auditor signed in (force_login writes no pin cookie)
    enterprise = factories.EnterpriseFactory(name="沈阳副本读取有限公司")
    client.force_login(auditor)
    pages = [
        reverse("audit:home"),
        reverse("audit:enterprise", args=[enterprise.pk]),
        reverse("audit:events"),
        reverse("credit_audit:ledger"),
        reverse("credit_audit:enterprise", args=[enterprise.pk]),
        reverse("credit_audit:export"),
        reverse("audit_eligibility:list"),
        reverse("audit_campaigns:list"),
        reverse("workbench:dashboard"),
        reverse("workbench:dashboard_export"),
        reverse("service_list"),
        reverse("certificate_verify"),
        reverse("efficiency_ranking"),
        reverse("inspections_public:list"),
        reverse("rating_scores"),
    ]
    for url in pages:
        # when the page is read
        with captured() as statements:
            response = client.get(url)
            body = _body(response)
        # then its reads came from the replica, the primary only said who is asking, and
        # nothing pins the auditor to the primary
        assert response.status_code == 200, url
        assert body, url
        assert statements.on(REPLICA, "SELECT"), url
        assert statements.domain_reads_on_primary() == [], url
        assert statements.on(REPLICA, "INSERT") == statements.on(REPLICA, "UPDATE") == [], url
        assert PIN_COOKIE not in response.cookies, url
    # and what the replica served is the primary's data
    assert "沈阳副本读取有限公司" in client.get(reverse("audit:home")).content.decode()


def test_a_streamed_export_reads_from_the_replica_while_it_streams(
    client: Client, replica_on: None, auditor: Any
) -> None:
    # given an auditor
    client.force_login(auditor)
    with captured() as statements:
        # when the ledger's CSV export is read to its end
        response = client.get(reverse("credit_audit:export"))
        assert response.streaming
        statements.clear()
        _body(response)
    # then the rows were read, during the streaming, from the replica
    assert any("credit_ledgerentry" in sql for sql in statements.on(REPLICA, "SELECT"))
    assert not any("credit_ledgerentry" in sql for sql in statements.on(DEFAULT_DB_ALIAS))


def test_the_auditor_read_record_is_written_on_the_primary(client: Client, replica_on: None, auditor: Any) -> None:
    # given an auditor signed in
    client.force_login(auditor)
    with captured() as statements:
        # when the audit trail is read from the replica
        response = client.get(reverse("audit:events"), {"action": "auditor.read"})
    # then its auditor.read record was inserted on the primary, and is there
    assert response.status_code == 200
    assert any("core_auditevent" in sql for sql in statements.on(DEFAULT_DB_ALIAS, "INSERT"))
    assert statements.on(REPLICA, "INSERT") == []
    assert (
        AuditEvent.objects.using(DEFAULT_DB_ALIAS)
        .filter(action="auditor.read", actor=auditor, object_type="core.auditevent")
        .exists()
    )
    # and the record, written after the page's routing closed, pins nobody to the primary
    assert PIN_COOKIE not in response.cookies


def test_a_post_and_every_write_go_to_the_primary(client: Client, replica_on: None, auditor: Any) -> None:
    # when the auditor signs in (a POST that writes the session and the last login)
    with captured() as statements:
        response = client.post(reverse("login"), {"username": auditor.username, "password": factories.PASSWORD})
    # then every statement ran on the primary
    assert response.status_code == 302
    assert statements.on(DEFAULT_DB_ALIAS, "INSERT") and statements.on(DEFAULT_DB_ALIAS, "UPDATE")
    assert statements.on(REPLICA) == []
    # and a POST to a read-only page reads from the primary too
    client.cookies.pop(PIN_COOKIE)
    with captured() as statements:
        response = client.post(reverse("audit:home"))
    assert response.status_code == 200
    assert statements.on(REPLICA) == []


def test_a_write_on_a_read_only_page_and_the_reads_after_it_use_the_primary(
    client: Client, replica_on: None, test_urls: None
) -> None:
    # when a page marked for the replica writes between two reads
    with captured() as statements:
        response = client.get(reverse("test_read_write_read"))
    # then the first read came from the replica, the write and the read after it from the primary
    assert response.status_code == 200
    assert [sql for sql in statements.on(REPLICA) if "approvals_department" in sql] != []
    assert len([sql for sql in statements.on(REPLICA) if "approvals_department" in sql]) == 1
    assert len([sql for sql in statements.on(DEFAULT_DB_ALIAS, "SELECT") if "approvals_department" in sql]) == 1
    assert any("core_auditevent" in sql for sql in statements.on(DEFAULT_DB_ALIAS, "INSERT"))
    assert statements.on(REPLICA, "INSERT") == []
    # and the browser is pinned to the primary for a while
    assert PIN_COOKIE in response.cookies


def test_the_page_after_the_users_own_write_reads_from_the_primary(
    client: Client, replica_on: None, auditor: Any, settings: Any
) -> None:
    # given an auditor who has just signed in: a write
    response = client.post(reverse("login"), {"username": auditor.username, "password": factories.PASSWORD})
    assert response.status_code == 302
    assert PIN_COOKIE in response.cookies
    assert response.cookies[PIN_COOKIE]["max-age"] == settings.DATABASE_REPLICA_PIN_SECONDS
    # when the page the login redirects to (a read-only page) is read right after
    with captured() as statements:
        response = client.get(reverse("audit:events"))
    # then it reads its own write from the primary, and the replica is not touched
    assert response.status_code == 200
    assert statements.on(REPLICA) == []
    assert statements.domain_reads_on_primary() != []
    # and another browser of the same auditor, which wrote nothing, reads from the replica
    other = Client()
    other.force_login(auditor)
    with captured() as statements:
        assert other.get(reverse("audit:events")).status_code == 200
    assert statements.on(REPLICA, "SELECT")
    # and once the pin has run out, the first browser reads from the replica again
    client.cookies[PIN_COOKIE] = f"{time.time() - 1:.3f}"
    with captured() as statements:
        assert client.get(reverse("audit:events")).status_code == 200
    assert statements.on(REPLICA, "SELECT")


def test_pages_not_listed_never_touch_the_replica(
    client: Client, replica_on: None, auditor: Any, owner: Any, test_urls: None
) -> None:
    # given an auditor, a supervisor and an enterprise user
    supervisor = factories.staff_with_role("supervisor")
    enterprise = Enterprise.objects.get(memberships__user=owner)
    visits = [
        (auditor, reverse("credit_audit:verify") + "?run=1"),
        (auditor, reverse("workbench:supervision")),
        (auditor, reverse("workbench:home")),
        (supervisor, reverse("workbench:cards")),
        (supervisor, reverse("campaigns:list")),
        (owner, reverse("portal:home")),
        (owner, reverse("credit:enterprise", args=[enterprise.pk])),
        (auditor, "/staff/"),
        (auditor, "/api/v1/schema/"),
        (auditor, reverse("test_unmarked")),
    ]
    for user, url in visits:
        client.force_login(user)
        # when a page that is not marked read-only is read
        with captured() as statements:
            response = client.get(url)
            _body(response)
        # then the replica ran nothing for it
        assert response.status_code < 500, url
        assert statements.on(DEFAULT_DB_ALIAS), url
        assert statements.on(REPLICA) == [], url


def test_select_for_update_and_reads_inside_atomic_stay_on_the_primary(
    client: Client, replica_on: None, test_urls: None
) -> None:
    # given a department to lock
    factories.department("锁定测试处")
    # when a page marked read-only reads outside, then inside a transaction, and locks a row
    with captured() as statements:
        response = client.get(reverse("test_transaction"))
    # then only the read outside the transaction came from the replica
    assert response.status_code == 200
    outside, inside, locked = response.content.decode().split()
    assert outside == inside and locked == "1"
    assert len(statements.on(REPLICA)) == 1
    primary = [sql for sql in statements.on(DEFAULT_DB_ALIAS, "SELECT") if "approvals_department" in sql]
    assert len(primary) == 2
    if connections[DEFAULT_DB_ALIAS].features.has_select_for_update:
        assert any("FOR UPDATE" in sql for sql in primary)


def test_a_streamed_body_of_a_marked_view_reads_from_the_replica(
    client: Client, replica_on: None, test_urls: None
) -> None:
    # given three departments
    for index in range(3):
        factories.department(f"流式处{index}")
    response = client.get(reverse("test_streamed"))
    # when the body is read after the response has left the middleware
    with captured() as statements:
        body = _body(response)
    # then every chunk's query ran on the replica
    assert body.decode().count("流式处") == 3
    assert statements.on(REPLICA, "SELECT")
    assert statements.on(DEFAULT_DB_ALIAS) == []


def test_without_a_replica_everything_stays_on_the_primary(client: Client, auditor: Any, settings: Any) -> None:
    # given no replica configured (DATABASE_REPLICA_URL unset)
    assert settings.DATABASE_REPLICA_ALIAS is None
    # when an auditor signs in and reads a read-only page
    with captured() as statements:
        login = client.post(reverse("login"), {"username": auditor.username, "password": factories.PASSWORD})
        client.cookies.pop(PIN_COOKIE, None)
        page = client.get(reverse("audit:events"))
    # then nothing touched the replica alias and no pin cookie was set
    assert login.status_code == 302 and page.status_code == 200
    assert PIN_COOKIE not in login.cookies
    assert statements.on(REPLICA) == []
    assert statements.domain_reads_on_primary() != []


def test_the_router_writes_and_migrates_on_the_primary_only(replica_on: None) -> None:
    router = ReplicaRouter()
    # outside any request: reads and writes on the primary
    assert router.db_for_read(Department) == DEFAULT_DB_ALIAS
    assert router.db_for_write(Department) == DEFAULT_DB_ALIAS
    # migrations only on the primary (the replica replays its WAL)
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "approvals") is True
    assert router.allow_migrate(REPLICA, "approvals") is False
    # objects of either alias may be related (the same rows)
    left = Department.objects.using(DEFAULT_DB_ALIAS).first() or factories.department("关系处")
    right = Department.objects.using(REPLICA).get(pk=left.pk)
    assert router.allow_relation(left, right) is True
    stranger = Department(name="x")
    stranger._state.db = "elsewhere"
    assert router.allow_relation(left, stranger) is None
