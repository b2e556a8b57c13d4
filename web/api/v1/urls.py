"""``/api/v1/``: the schema and its readers first, then the resources; anything else is a 404 in the
API's error shape (not an HTML page)."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from web.api.v1 import meta

app_name = "api_v1"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # the split view serves Swagger UI's start-up script as its own file: no inline script (CSP)
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api_v1:schema"), name="docs"),
    re_path(r"^.*$", meta.not_found, name="not_found"),
]
