"""``/api/v1/``: the schema and its readers first, then the resources; anything else is a 404 in the
API's error shape (not an HTML page)."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from web.api.v1 import meta, public, staff, system
from web.api.v1.enterprise import applications as enterprise_applications

app_name = "api_v1"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # the split view serves Swagger UI's start-up script as its own file: no inline script (CSP)
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api_v1:schema"), name="docs"),
    # public (no login, read only)
    path("public/items/", public.ItemList.as_view(), name="public_items"),
    path("public/items/<str:code>/", public.ItemGuide.as_view(), name="public_item"),
    path("public/certificates/<str:number>/", public.CertificateVerify.as_view(), name="public_certificate"),
    path("public/campaigns/", public.CampaignList.as_view(), name="public_campaigns"),
    path("public/campaigns/<slug:code>/", public.CampaignDetail.as_view(), name="public_campaign"),
    path("public/campaigns/<slug:code>/sample/", public.CampaignSample.as_view(), name="public_campaign_sample"),
    # an enterprise's own data (token or session)
    path(
        "enterprise/applications/",
        enterprise_applications.ApplicationCollection.as_view(),
        name="enterprise_applications",
    ),
    path(
        "enterprise/applications/<int:pk>/",
        enterprise_applications.ApplicationItem.as_view(),
        name="enterprise_application",
    ),
    path(
        "enterprise/applications/<int:pk>/materials/",
        enterprise_applications.MaterialUpload.as_view(),
        name="enterprise_application_materials",
    ),
    path(
        "enterprise/applications/<int:pk>/submit/",
        enterprise_applications.Submit.as_view(),
        name="enterprise_application_submit",
    ),
    path(
        "enterprise/applications/<int:pk>/supplements/<int:notice_pk>/answer/",
        enterprise_applications.SupplementAnswer.as_view(),
        name="enterprise_supplement_answer",
    ),
    path(
        "enterprise/applications/<int:pk>/withdraw/",
        enterprise_applications.Withdraw.as_view(),
        name="enterprise_application_withdraw",
    ),
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
