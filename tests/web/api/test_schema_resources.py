"""The schema describes the public and enterprise resources, and generates without a warning."""

from __future__ import annotations

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

PATHS = [
    "/api/v1/public/items/",
    "/api/v1/public/items/{code}/",
    "/api/v1/public/certificates/{number}/",
    "/api/v1/public/campaigns/",
    "/api/v1/public/campaigns/{code}/",
    "/api/v1/public/campaigns/{code}/sample/",
    "/api/v1/enterprise/applications/",
    "/api/v1/enterprise/applications/{id}/",
    "/api/v1/enterprise/applications/{id}/materials/",
    "/api/v1/enterprise/applications/{id}/submit/",
    "/api/v1/enterprise/applications/{id}/supplements/{notice_pk}/answer/",
    "/api/v1/enterprise/applications/{id}/withdraw/",
]


@pytest.fixture
def schema():
    GENERATOR_STATS.reset()
    document = SchemaGenerator().get_schema(request=None, public=True)
    yield document
    GENERATOR_STATS.reset()


def test_schema_generates_valid_and_without_warnings(schema):
    validate_schema(schema)  # raises on an invalid OpenAPI 3 document
    assert GENERATOR_STATS._warn_cache == {}, list(GENERATOR_STATS._warn_cache)
    assert GENERATOR_STATS._error_cache == {}, list(GENERATOR_STATS._error_cache)


def test_schema_describes_every_resource(schema):
    paths = {path.replace("{pk}", "{id}") for path in schema["paths"]}
    assert set(PATHS) <= paths, sorted(set(PATHS) - paths)


def test_submit_documents_the_idempotency_key_and_the_409(schema):
    submit = next(op for path, op in schema["paths"].items() if path.endswith("/submit/"))["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" and p["required"] for p in submit["parameters"])
    assert {"200", "409", "422"} <= set(submit["responses"])


def test_the_token_is_a_bearer_scheme(schema):
    scheme = schema["components"]["securitySchemes"]["personalAccessToken"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    listing = schema["paths"]["/api/v1/enterprise/applications/"]["get"]
    assert {"personalAccessToken": []} in listing["security"]
