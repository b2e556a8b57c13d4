"""The API as a whole: its schema, its readers served from our own static files, and the one error
shape for what names no resource."""

import json

import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_schema_is_openapi_3_of_version_1(client):
    # Given anyone, when the schema is asked for
    response = client.get("/api/v1/schema/?format=json")

    # Then it is an OpenAPI 3 document of version 1
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    assert document["info"]["version"] == "1"


def test_schema_as_yaml_by_default(client):
    response = client.get("/api/v1/schema/")

    assert response.status_code == 200
    assert yaml.safe_load(response.content)["info"]["title"] == "ReformFlow API"


def test_reader_loads_its_scripts_from_our_static_files(client):
    # When the schema reader is opened
    response = client.get("/api/v1/docs/")

    # Then it renders and names no other host (no CDN)
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in page
    assert "https://" not in page and "http://" not in page.replace("http://testserver", "")


def test_swagger_start_up_is_a_script_file_not_inline(client):
    # The page carries no inline script (the content security policy would block it)
    page = client.get("/api/v1/docs/").content.decode()
    assert "<script>" not in page.replace(" ", "")
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_path_is_a_404_in_the_error_shape(client, method):
    response = getattr(client, method)("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "not_found"
    assert body["message"]


def test_domain_error_keeps_its_code_as_a_422():
    from rest_framework.test import APIRequestFactory

    from core.exceptions import DomainError
    from web.api.errors import exception_handler

    request = APIRequestFactory().get("/api/v1/")
    response = exception_handler(
        DomainError("application_not_draft", "Only a draft can be edited."), {"request": request}
    )

    assert response is not None
    assert response.status_code == 422
    assert response.data == {"code": "application_not_draft", "message": "Only a draft can be edited."}


def test_field_errors_are_listed_per_field():
    from rest_framework.exceptions import ValidationError

    from web.api.errors import exception_handler

    response = exception_handler(ValidationError({"title": ["This field is required."]}), {})

    assert response is not None
    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert response.data["fields"] == {"title": ["This field is required."]}
    assert response.data["message"]
