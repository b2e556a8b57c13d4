"""``/api/v1/``: the schema and its readers first, then the resources; anything else is a 404 in the
API's error shape (not an HTML page)."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from web.api.v1 import meta, staff, system

app_name = "api_v1"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # the split view serves Swagger UI's start-up script as its own file: no inline script (CSP)
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api_v1:schema"), name="docs"),
    # staff (browser session): the department queue and its tasks
    path("staff/tasks/", staff.QueueView.as_view(), name="staff_queue"),
    path("staff/tasks/<int:task_pk>/", staff.TaskView.as_view(), name="staff_task"),
    path("staff/tasks/<int:task_pk>/claim/", staff.ClaimView.as_view(), name="staff_task_claim"),
    path("staff/tasks/<int:task_pk>/release/", staff.ReleaseView.as_view(), name="staff_task_release"),
    path("staff/tasks/<int:task_pk>/accept/", staff.AcceptView.as_view(), name="staff_task_accept"),
    path("staff/tasks/<int:task_pk>/review/", staff.ReviewView.as_view(), name="staff_task_review"),
    path("staff/tasks/<int:task_pk>/decide/", staff.DecideView.as_view(), name="staff_task_decide"),
    # systems of other authorities (OAuth2 client credentials, token at /oauth/token/)
    path("system/credit-records/", system.CreditImportView.as_view(), name="system_credit_import"),
    path("system/grades/<str:uscc>/", system.GradeView.as_view(), name="system_grade"),
    re_path(r"^.*$", meta.not_found, name="not_found"),
]
