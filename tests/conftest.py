"""Shared fixtures, personas and the PostgreSQL-only gate.

Tests marked ``postgres_only`` need PostgreSQL (row locks, real concurrency, triggers). On SQLite
they are skipped; run with ``--require-postgres`` (as ``.ci/run`` does) and a skip of such a test,
or running on anything but PostgreSQL, fails the run instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from django.db import connection

from tests import factories
from tests.workflows.conftest import bureau  # noqa: F401  (the small bureau of the flow tests, for every test)

_skipped_postgres_only: list[str] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-postgres",
        action="store_true",
        default=False,
        help="Fail (instead of skip) when a postgres_only test cannot run.",
    )
    parser.addoption(
        "--require-browser",
        action="store_true",
        default=False,
        help="Fail (instead of skip) when the browser tests find no Chromium.",
    )


def _on_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _on_postgres():
        return
    if config.getoption("--require-postgres"):
        raise pytest.UsageError("--require-postgres was given but DATABASE_URL does not point at PostgreSQL.")
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://…)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and "postgres_only" in report.keywords:
        _skipped_postgres_only.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if session.config.getoption("--require-postgres") and _skipped_postgres_only:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                "FAILED: PostgreSQL-only tests were skipped under --require-postgres: "
                + ", ".join(_skipped_postgres_only),
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


REPLICA = "replica"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """A second alias, ``replica``, that mirrors the test database (``TEST: MIRROR``), as a
    configured ``DATABASE_REPLICA_URL`` would give: the routing tests read through it. It is no
    replica of anything until a test turns the router on (``settings.DATABASE_REPLICA_ALIAS``), and
    a test that does not list it in its ``databases`` may not query it at all."""
    from copy import deepcopy

    from django.conf import settings
    from django.db import connections

    if REPLICA in connections.settings:
        return
    replica = deepcopy(connections.settings["default"])
    replica["TEST"] = {**replica["TEST"], "MIRROR": "default", "NAME": None}
    connections.settings[REPLICA] = replica
    if settings.DATABASES is not connections.settings:
        settings.DATABASES[REPLICA] = deepcopy(replica)


@pytest.fixture
def enterprise() -> factories.Enterprise:
    return factories.EnterpriseFactory()


@pytest.fixture
def peer_enterprise() -> factories.Enterprise:
    return factories.EnterpriseFactory()


@pytest.fixture
def owner(enterprise):  # type: ignore[no-untyped-def]
    """An enterprise user confirmed as legal representative of ``enterprise``."""
    membership = factories.MembershipFactory(enterprise=enterprise, confirmed=True)
    return membership.user


@pytest.fixture
def peer(peer_enterprise):  # type: ignore[no-untyped-def]
    """The legal representative of another enterprise."""
    return factories.MembershipFactory(enterprise=peer_enterprise, confirmed=True).user


@pytest.fixture
def administrator():  # type: ignore[no-untyped-def]
    return factories.staff_with_role("administrator")


@pytest.fixture
def auditor():  # type: ignore[no-untyped-def]
    return factories.staff_with_role("auditor")


# --- a real browser, shared by every browser test (one sync Playwright instance per session) ---


CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
# Flags for a closed network and a root user in CI (see the machine notes).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser(request: pytest.FixtureRequest) -> Iterator[object]:
    if CHROMIUM is None:
        if request.config.getoption("--require-browser"):
            pytest.fail("--require-browser was given but no chromium executable was found")
        pytest.skip("needs Chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still
    # synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.base_url = live_server.url  # type: ignore[attr-defined]
    yield page
    context.close()
