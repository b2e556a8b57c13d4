"""schemathesis over the whole checked schema, as anonymous, as an enterprise (a personal access
token) and as a staff member (a browser session): every operation with generated parameters and
bodies answers without a server error, and every answer whose status the schema documents matches
the schema."""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.wsgi import application
from tests.web.api.conftest import token_for

EXAMPLES = 6  # per operation and persona: the suite's budget (CI); more by hand


@pytest.fixture(autouse=True)
def _connection_kept_across_requests():  # type: ignore[no-untyped-def]
    """schemathesis calls the real WSGI application, whose request signals close the database
    connection after each request; the test's transaction needs it open (as Django's test client
    does it)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def personas(tenants):  # type: ignore[no-untyped-def]
    """The headers of each persona: nobody, an enterprise's token, a staff member's session."""
    client = Client()
    client.force_login(tenants.staff)
    return {
        "anonymous": {},
        "enterprise": {"Authorization": f"Bearer {token_for(tenants.owner)}"},
        "staff": {"Cookie": f"sessionid={client.cookies['sessionid'].value}"},
    }


def test_no_server_error_and_answers_match_the_schema(db, settings, personas):  # type: ignore[no-untyped-def]
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]  # schemathesis loads the schema as localhost
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    statuses: list[int] = []
    assert len(operations) >= 20  # the whole surface, not an empty schema
    for operation in operations:

        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @hypothesis.given(case=operation.as_strategy())
        def check(case):  # type: ignore[no-untyped-def]
            for headers in personas.values():
                response = case.call(headers={"Host": "testserver", **headers})
                statuses.append(response.status_code)
                case.validate_response(response, checks=(not_a_server_error, response_schema_conformance))

        check()
    # the personas were answered, not all refused: public and own data open, the rest refused
    assert {200, 401, 403, 404} <= set(statuses), sorted(set(statuses))
