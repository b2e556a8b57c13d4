"""The auditor's console, mounted at ``audit/``: home, enterprises and the audit trail (namespace
``audit``), the credit ledger (``credit_audit``), eligibility decisions (``audit_eligibility``),
inspection campaigns (``audit_campaigns``). Auditors change nothing; every read is recorded."""

from django.urls import include, path

from web.audit import campaigns, credit, eligibility, views

audit_patterns = [
    path("", views.audit_home, name="home"),
    path("enterprises/<int:pk>/", views.audit_enterprise, name="enterprise"),
    path("events/", views.audit_events, name="events"),
]

credit_patterns = [
    path("", credit.audit_ledger, name="ledger"),
    path("enterprises/<int:pk>/", credit.audit_enterprise_credit, name="enterprise"),
    path("verify/", credit.audit_verify, name="verify"),
    path("export.csv", credit.audit_export, name="export"),
]

eligibility_patterns = [
    path("", eligibility.decision_list, name="list"),
    path("<int:pk>/", eligibility.decision_detail, name="decision"),
    path("<int:pk>/replay/", eligibility.decision_replay, name="replay"),
]

campaign_patterns = [
    path("", campaigns.audit_list, name="list"),
    path("<slug:code>/export.json", campaigns.audit_export, name="export"),
    path("<slug:code>/verify/", campaigns.audit_verify, name="verify"),
]

urlpatterns = [
    path("credit/", include((credit_patterns, "credit_audit"))),
    path("eligibility/", include((eligibility_patterns, "audit_eligibility"))),
    path("campaigns/", include((campaign_patterns, "audit_campaigns"))),
    path("", include((audit_patterns, "audit"))),
]
