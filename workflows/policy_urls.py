"""URLs of the preferential-policy screens: the enterprise portal (``policies``), the policy office
(``policy_office``) and the auditor's eligibility console (``audit_eligibility``). Mounted in
``config/urls.py`` under ``portal/policies/``, ``policy-office/`` and ``audit/eligibility/``."""

from django.urls import path

from workflows import policy_audit_views, policy_office_views, policy_views

portal_patterns = (
    [
        path("", policy_views.policy_list, name="list"),
        path("<int:policy_pk>/apply/", policy_views.policy_apply, name="apply"),
        path("applications/", policy_views.application_list, name="applications"),
        path("applications/<int:pk>/", policy_views.application_detail, name="application"),
        path("applications/<int:pk>/withdraw/", policy_views.application_withdraw, name="withdraw"),
        path("projects/", policy_views.project_list, name="projects"),
        path("projects/new/", policy_views.project_register, name="project_register"),
        path("projects/<int:pk>/", policy_views.project_detail, name="project"),
        path("projects/<int:pk>/decide/", policy_views.project_decide_again, name="project_decide"),
    ],
    "policies",
)

office_patterns = (
    [
        path("", policy_office_views.queue, name="home"),
        path("applications/<int:pk>/", policy_office_views.review, name="review"),
        path("grants/", policy_office_views.grant_list, name="grants"),
        path("grants/<int:pk>/", policy_office_views.grant_detail, name="grant"),
        path("projects/", policy_office_views.project_list, name="projects"),
        path("projects/<int:pk>/", policy_office_views.project_detail, name="project"),
    ],
    "policy_office",
)

audit_patterns = (
    [
        path("", policy_audit_views.decision_list, name="list"),
        path("<int:pk>/", policy_audit_views.decision_detail, name="decision"),
        path("<int:pk>/replay/", policy_audit_views.decision_replay, name="replay"),
    ],
    "audit_eligibility",
)
