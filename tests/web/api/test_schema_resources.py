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
    "/api/v1/enterprise/applications/{id}/materials/{material_pk}/file/",
    "/api/v1/enterprise/applications/{id}/notices/",
    "/api/v1/enterprise/applications/{id}/notices/{notice_pk}/",
    "/api/v1/enterprise/applications/{id}/notices/{notice_pk}/file/",
    "/api/v1/enterprise/certificates/",
    "/api/v1/enterprise/certificates/{id}/",
    "/api/v1/enterprise/enterprises/{id}/credit/",
    "/api/v1/enterprise/enterprises/{id}/credit/entries/",
    "/api/v1/enterprise/policies/",
    "/api/v1/enterprise/policies/eligibility/",
    "/api/v1/enterprise/policies/{code}/",
    "/api/v1/enterprise/policies/{code}/eligibility/",
    "/api/v1/enterprise/policy-applications/",
    "/api/v1/enterprise/policy-applications/{id}/",
    "/api/v1/enterprise/policy-applications/{id}/withdraw/",
    "/api/v1/enterprise/messages/",
    "/api/v1/enterprise/messages/{id}/",
    "/api/v1/enterprise/messages/{id}/read/",
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


def test_writes_that_retry_document_the_idempotency_key(schema):
    apply = schema["paths"]["/api/v1/enterprise/policy-applications/"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in apply["parameters"])
    assert {"201", "409", "422"} <= set(apply["responses"])


def test_downloads_are_binary_with_their_types(schema):
    notice = schema["paths"]["/api/v1/enterprise/applications/{id}/notices/{notice_pk}/file/"]["get"]
    material = schema["paths"]["/api/v1/enterprise/applications/{id}/materials/{material_pk}/file/"]["get"]
    assert set(notice["responses"]["200"]["content"]) == {"application/pdf"}
    assert set(material["responses"]["200"]["content"]) == {"application/pdf", "image/png", "image/jpeg"}
    assert notice["responses"]["200"]["content"]["application/pdf"]["schema"] == {"type": "string", "format": "binary"}


def test_eligibility_is_asked_with_a_post_never_a_get(schema):
    assert set(schema["paths"]["/api/v1/enterprise/policies/{code}/eligibility/"]) == {"post"}
    assert set(schema["paths"]["/api/v1/enterprise/policies/eligibility/"]) == {"post"}


def test_the_token_is_a_bearer_scheme(schema):
    scheme = schema["components"]["securitySchemes"]["personalAccessToken"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    listing = schema["paths"]["/api/v1/enterprise/applications/"]["get"]
    assert {"personalAccessToken": []} in listing["security"]
