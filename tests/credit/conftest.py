"""Fixtures of the credit tests.

``CREDIT_TEST_RUNTIME_ROLE=<name>`` (set by ``.ci/run``, PostgreSQL only): after the test database is
migrated by the owner, the role is created with ``manage.py ledger_runtime_role`` and every later
connection of the run is made as that role (``-c role=…``), so the ledger tests run with the
runtime role's grants, as production does. Flushes still run as the owner (``credit`` ``flush``).
"""

import pytest

from tests.credit.ledger_helpers import runtime_role_connections


@pytest.fixture(autouse=True)
def anchor_file(tmp_path, settings):
    """Every credit test writes checkpoints to its own file, never to the repository's var/."""
    path = tmp_path / "anchors.jsonl"
    settings.CREDIT_LEDGER_ANCHOR_FILE = path
    return path


connected_as_runtime_role = pytest.fixture(scope="package", autouse=True)(runtime_role_connections)
