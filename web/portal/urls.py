"""The enterprise portal, mounted at ``portal/``: applications (namespace ``portal``), the
enterprise and its credit (``credit``), preferential policies and projects (``policies``)."""

from django.urls import include, path

from web.accounts import views as accounts_views
from web.portal import applications, credit, policies, ratings, supervision, tokens, views

portal_patterns = [
    path("", views.portal_home, name="home"),
    path("applications/", applications.application_list, name="applications"),
    path("apply/<int:version_pk>/", applications.application_file, name="application_file"),
    path("applications/<int:pk>/", applications.application_detail, name="application"),
    path("applications/<int:pk>/submitted/", applications.application_submitted, name="application_submitted"),
    path(
        "applications/<int:pk>/supplements/<int:notice_pk>/answer/",
        applications.supplement_answer,
        name="supplement_answer",
    ),
    path("applications/<int:pk>/withdraw/", applications.application_withdraw, name="application_withdraw"),
    path("applications/<int:pk>/commitment/", supervision.commitment, name="commitment"),
    path("inspections/", supervision.enterprise_inspections, name="inspections"),
    path("rectifications/<int:pk>/report/", supervision.rectification_report, name="rectification_report"),
    path("applications/<int:pk>/rating/", ratings.application_rate, name="application_rate"),
    path("tokens/", tokens.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke, name="token_revoke"),
]

credit_patterns = [
    path("join/", accounts_views.membership_join, name="join"),
    path("enterprises/<int:pk>/", views.enterprise_detail, name="enterprise"),
    path("enterprises/<int:pk>/credit/", credit.enterprise_credit, name="credit"),
]

policy_patterns = [
    path("", policies.policy_list, name="list"),
    path("check/", policies.policy_check, name="check"),
    path("<int:policy_pk>/apply/", policies.policy_apply, name="apply"),
    path("applications/", policies.application_list, name="applications"),
    path("applications/<int:pk>/", policies.application_detail, name="application"),
    path("applications/<int:pk>/withdraw/", policies.application_withdraw, name="withdraw"),
    path("projects/", policies.project_list, name="projects"),
    path("projects/new/", policies.project_register, name="project_register"),
    path("projects/<int:pk>/", policies.project_detail, name="project"),
    path("projects/<int:pk>/decide/", policies.project_decide_again, name="project_decide"),
]

urlpatterns = [
    path("policies/", include((policy_patterns, "policies"))),
    path("", include((portal_patterns, "portal"))),
    path("", include((credit_patterns, "credit"))),
    path(
        "enterprises/<int:pk>/credit/entries/<int:seq>/<str:kind>/",
        credit.request_start,
        name="credit_request_start",
    ),
]
