"""URLs of the random-inspection campaigns, mounted in ``config/urls.py``:

- ``staff_patterns`` (namespace ``campaigns``) at ``/workbench/campaigns/``;
- ``public_patterns`` (namespace ``inspections_public``) at ``/inspections/``, no login;
- ``audit_patterns`` (namespace ``audit_campaigns``) at ``/audit/campaigns/``.
"""

from django.urls import path

from approvals import campaign_views as views

staff_patterns = (
    [
        path("", views.campaign_list, name="list"),
        path("new/", views.campaign_create, name="create"),
        path("<slug:code>/", views.campaign_detail, name="detail"),
        path("<slug:code>/ratios/", views.campaign_ratios, name="ratios"),
        path("<slug:code>/recusals/", views.campaign_recusal_add, name="recusal_add"),
        path("<slug:code>/recusals/<int:pk>/remove/", views.campaign_recusal_remove, name="recusal_remove"),
        path("<slug:code>/freeze/", views.campaign_freeze, name="freeze"),
        path("<slug:code>/draw/", views.campaign_draw, name="draw"),
    ],
    "campaigns",
)

public_patterns = (
    [
        path("", views.public_list, name="list"),
        path("<slug:code>/", views.public_detail, name="detail"),
    ],
    "inspections_public",
)

audit_patterns = (
    [
        path("", views.audit_list, name="list"),
        path("<slug:code>/export.json", views.audit_export, name="export"),
        path("<slug:code>/verify/", views.audit_verify, name="verify"),
    ],
    "audit_campaigns",
)
