"""Fixtures of the credit tests.

``CREDIT_TEST_RUNTIME_ROLE=<name>`` (set by ``.ci/run``, PostgreSQL only): after the test database is
migrated by the owner, the role is created with ``manage.py ledger_runtime_role`` and every later
connection of the run is made as that role (``-c role=…``), so the ledger tests run with the
runtime role's grants, as production does. Flushes still run as the owner (``credit`` ``flush``).
"""

import pytest

from tests import factories
from tests.credit.ledger_helpers import runtime_role_connections


@pytest.fixture(autouse=True)
def anchor_file(tmp_path, settings):
    """Every credit test writes checkpoints to its own file, never to the repository's var/."""
    path = tmp_path / "anchors.jsonl"
    settings.CREDIT_LEDGER_ANCHOR_FILE = path
    return path


@pytest.fixture(autouse=True)
def bureau_calendar(request):  # type: ignore[no-untyped-def]
    """The bureau's working-day calendar for 2025–2027, as administrators keep it: the credit
    office's request deadlines count on it (and refuse a year it does not cover)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
    factories.calendar_published()


connected_as_runtime_role = pytest.fixture(scope="package", autouse=True)(runtime_role_connections)
