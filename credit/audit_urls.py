from django.urls import path

from credit import ledger_views

app_name = "credit_audit"
urlpatterns = [
    path("", ledger_views.audit_ledger, name="ledger"),
    path("enterprises/<int:pk>/", ledger_views.audit_enterprise_credit, name="enterprise"),
    path("verify/", ledger_views.audit_verify, name="verify"),
    path("export.csv", ledger_views.audit_export, name="export"),
]
