from django.urls import path

from approvals import views

audit_patterns = (
    [
        path("", views.audit_home, name="home"),
        path("enterprises/<int:pk>/", views.audit_enterprise, name="enterprise"),
        path("events/", views.audit_events, name="events"),
    ],
    "audit",
)

public_patterns = [
    path("services/", views.service_list, name="service_list"),
    path("services/<str:code>/", views.service_guide, name="service_guide"),
    path("verify/", views.certificate_verify, name="certificate_verify"),
    path("verify/<str:code>/", views.certificate_verify, name="certificate_verify_code"),
    path("verify/<str:code>/qr.svg", views.certificate_qr, name="certificate_qr"),
]
