from django.urls import path

from approvals import views

portal_patterns = ([path("", views.portal_home, name="home")], "portal")
workbench_patterns = ([path("", views.workbench_home, name="home")], "workbench")
audit_patterns = (
    [
        path("", views.audit_home, name="home"),
        path("enterprises/<int:pk>/", views.audit_enterprise, name="enterprise"),
        path("events/", views.audit_events, name="events"),
    ],
    "audit",
)
